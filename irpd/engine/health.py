"""Process health: database availability, event-loop lag, and what the engine is doing."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import structlog

from irpd.db.failures import DatabaseDegraded
from irpd.errors import clip

log = structlog.get_logger("irpd.health")


#: a degradation still present is logged again (``database_degraded``) this often
DEGRADED_ALERT_INTERVAL = 300.0


@dataclass
class Degradation:
    """A kind of statement the database keeps refusing (privilege, schema, constraint)."""

    query: str
    sqlstate: str | None
    error: str
    since: float
    last_alert: float
    refusals: int = 1

    def snapshot(self, now: float) -> dict[str, Any]:
        """JSON-able, for ``irpctl status``."""
        return {
            "query": self.query,
            "sqlstate": self.sqlstate,
            "error": self.error,
            "seconds": round(now - self.since, 1),
            "refusals": self.refusals,
        }


@dataclass
class DatabaseHealth:
    """Whether the database answered recently, and which statements it refuses.

    Outages (unreachable, read-only) are logged once each way. A refusal only an
    administrator can fix (:class:`DatabaseDegraded`) marks that statement *degraded*: logged
    as an alert at once and again every ``alert_interval`` s while it lasts, and cleared when
    the same statement succeeds (or by :meth:`retry_now`, on SIGHUP).
    """

    available: bool = True
    last_ok: float = field(default_factory=time.monotonic)
    last_error: str | None = None
    reason: str | None = None
    sqlstate: str | None = None
    outages: int = 0
    degraded: dict[str, Degradation] = field(default_factory=dict)
    alert_interval: float = DEGRADED_ALERT_INTERVAL
    _retry: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def ok(self, query: str = "") -> None:
        """A database call succeeded."""
        now = time.monotonic()
        self.last_ok = now
        if not self.available:
            self.available = True
            log.info("database_available", outages=self.outages)
        if query in self.degraded:
            gone = self.degraded.pop(query)
            log.info(
                "database_degradation_cleared",
                query=query,
                sqlstate=gone.sqlstate,
                seconds=round(now - gone.since, 1),
                refusals=gone.refusals,
            )

    def failed(self, error: BaseException) -> None:
        """A database call failed because the database is unreachable or read-only."""
        self.last_error = f"{type(error).__name__}: {error}"
        self.reason = getattr(error, "reason", "unreachable")
        self.sqlstate = getattr(error, "sqlstate", None)
        if self.available:
            self.available = False
            self.outages += 1
            log.error("database_unavailable", error=self.last_error, reason=self.reason)

    def refused(self, error: DatabaseDegraded) -> None:
        """The database refused a statement in a way retrying alone cannot fix."""
        now = time.monotonic()
        known = self.degraded.get(error.query)
        if known is None:
            known = Degradation(error.query, error.sqlstate, str(error), now, now)
            self.degraded[error.query] = known
        else:
            known.refusals += 1
            known.error, known.sqlstate = str(error), error.sqlstate
            if now - known.last_alert < self.alert_interval:
                return
            known.last_alert = now
        log.error(
            "database_degraded",
            query=known.query,
            sqlstate=known.sqlstate,
            error=known.error,
            seconds=round(now - known.since, 1),
            refusals=known.refusals,
        )

    def record(self, query: str, error: BaseException | None) -> None:
        """The database observer: every call reports here (see ``Database.observe``)."""
        if error is None:
            self.ok(query)
        elif isinstance(error, DatabaseDegraded):
            self.refused(error)
        else:
            self.failed(error)

    def retry_now(self) -> None:
        """Forget the degradations and wake every task backing off (SIGHUP): whatever is
        still refused is found again at the next attempt, and alerted again."""
        if self.degraded:
            log.info("database_degradation_reset", queries=sorted(self.degraded))
            self.degraded.clear()
        self._retry.set()
        self._retry.clear()

    async def backoff(self, seconds: float) -> None:
        """Sleep before retrying a database call; :meth:`retry_now` cuts it short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._retry.wait(), seconds)

    @property
    def state(self) -> str:
        """``ok``, ``unavailable`` or ``degraded``."""
        if not self.available:
            return "unavailable"
        return "degraded" if self.degraded else "ok"

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state for ``irpctl status``."""
        now = time.monotonic()
        return {
            "available": self.available,
            "state": self.state,
            "reason": None if self.available else self.reason,
            "seconds_since_ok": round(now - self.last_ok, 1),
            "last_error": self.last_error,
            "sqlstate": self.sqlstate,
            "outages": self.outages,
            "degraded": [d.snapshot(now) for d in self.degraded.values()],
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
        self.last_error = clip(f"{type(error).__name__}: {error}", 500)

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
