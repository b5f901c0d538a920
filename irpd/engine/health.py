"""Process health: database availability, event-loop lag, and what the engine is doing."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger("irpd.health")


@dataclass
class DatabaseHealth:
    """Whether the database answered recently; transitions are logged once each way."""

    available: bool = True
    last_ok: float = field(default_factory=time.monotonic)
    last_error: str | None = None
    outages: int = 0

    def ok(self) -> None:
        """A database call succeeded."""
        self.last_ok = time.monotonic()
        if not self.available:
            self.available = True
            log.info("database_available", outages=self.outages)

    def failed(self, error: BaseException) -> None:
        """A database call failed because the database is unreachable."""
        self.last_error = f"{type(error).__name__}: {error}"
        if self.available:
            self.available = False
            self.outages += 1
            log.error("database_unavailable", error=self.last_error)

    def record(self, error: BaseException | None) -> None:
        """The database observer: every call reports here (see ``Database.observe``)."""
        if error is None:
            self.ok()
        else:
            self.failed(error)

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state for ``irpctl status``."""
        return {
            "available": self.available,
            "seconds_since_ok": round(time.monotonic() - self.last_ok, 1),
            "last_error": self.last_error,
            "outages": self.outages,
        }


@dataclass
class MoodysHealth:
    """Whether Moody's answered the engine's last calls (for ``irpctl status``)."""

    reachable: bool | None = None
    last_ok: float | None = None
    last_error: str | None = None

    def ok(self) -> None:
        """A call to Moody's got an answer."""
        self.reachable = True
        self.last_ok = time.monotonic()
        self.last_error = None  # shown only while it is current

    def failed(self, error: BaseException) -> None:
        """A call to Moody's failed after the client's own retries."""
        self.reachable = False
        self.last_error = f"{type(error).__name__}: {error}"[:500]

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state."""
        since = None if self.last_ok is None else round(time.monotonic() - self.last_ok, 1)
        return {
            "reachable": self.reachable,
            "seconds_since_answer": since,
            "last_error": self.last_error,
        }


class GcPauses:
    """Longest garbage-collector pauses by generation (they stall the event loop too)."""

    def __init__(self) -> None:
        self._started = 0.0
        self.longest = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = info.get("generation", 0)
        pause = time.perf_counter() - self._started
        self.count[generation] += 1
        self.longest[generation] = max(self.longest[generation], pause)

    def snapshot(self) -> dict[str, Any]:
        """Collections and the longest pause (ms) per generation since start."""
        return {
            f"gen{g}": {
                "collections": self.count[g],
                "longest_ms": round(self.longest[g] * 1000, 1),
            }
            for g in range(3)
        }


class LoopLagMonitor:
    """Measures how late the event loop wakes a sleeping coroutine (p50/p99 over a window)."""

    def __init__(self, interval: float = 0.1, window: int = 600) -> None:
        self._interval = interval
        self._samples: deque[float] = deque(maxlen=window)
        self.last_beat = time.monotonic()

    async def run(self) -> None:
        """Sample forever (a supervised task)."""
        while True:
            start = time.monotonic()
            await asyncio.sleep(self._interval)
            now = time.monotonic()
            self._samples.append(max(0.0, now - start - self._interval))
            self.last_beat = now

    def percentiles(self) -> dict[str, float]:
        """p50 / p99 / max lag in milliseconds over the window."""
        if not self._samples:
            return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        ordered = sorted(self._samples)
        n = len(ordered)
        return {
            "p50_ms": round(ordered[n // 2] * 1000, 2),
            "p99_ms": round(ordered[min(n - 1, int(n * 0.99))] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
        }

    def stalled(self, threshold: float) -> bool:
        """True when the loop has not completed a sample for ``threshold`` seconds."""
        return time.monotonic() - self.last_beat > threshold
