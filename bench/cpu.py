"""Where the CPU went during a phase: the daemon, the fake, the daemon's PostgreSQL backends,
and how busy the whole machine was (other work on the machine shows up there).

Linux only (``/proc``); a figure that cannot be read (e.g. a remote server's backends) is None.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (None when it cannot be read)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


@dataclass(frozen=True, slots=True)
class CpuFigures:
    """CPU seconds spent during one phase, and the machine's busy share."""

    wall_s: float
    daemon_s: float | None
    fake_s: float | None
    postgres_s: float | None
    machine_busy_pct: float
    #: busy CPU seconds of the machine not spent by the three above (the harness, the
    #: kernel's share, and anything else running on the machine)
    other_s: float


PidLister = Callable[[], Awaitable[list[int]]]


class CpuMeter:
    """Snapshot at :meth:`start`, difference at :meth:`stop`."""

    def __init__(self, fake_pid: int, postgres_pids: PidLister) -> None:
        self._fake_pid = fake_pid
        self._postgres_pids = postgres_pids
        self._daemon_pid: int | None = None
        self._start: dict[str, float | None] = {}
        self._postgres: dict[int, float] = {}
        self._ticks = (0, 0)
        self._wall = 0.0

    async def start(self, daemon_pid: int | None = None) -> None:
        """Take the first snapshot (the daemon may be started afterwards: see :meth:`stop`)."""
        self._daemon_pid = daemon_pid
        self._wall = time.monotonic()
        self._ticks = machine_ticks()
        self._start = {
            "daemon": None if daemon_pid is None else process_cpu(daemon_pid),
            "fake": process_cpu(self._fake_pid),
        }
        self._postgres = await self._postgres_cpu()

    async def _postgres_cpu(self) -> dict[int, float]:
        found: dict[int, float] = {}
        for pid in await self._postgres_pids():
            cpu = process_cpu(pid)
            if cpu is not None:
                found[pid] = cpu
        return found

    async def stop(self, daemon_pid: int) -> CpuFigures:
        """CPU used since :meth:`start` (a daemon started after it counts from zero)."""
        busy0, total0 = self._ticks
        busy1, total1 = machine_ticks()
        daemon_now = process_cpu(daemon_pid)
        daemon_before = self._start.get("daemon") if self._daemon_pid == daemon_pid else 0.0
        fake_now, fake_before = process_cpu(self._fake_pid), self._start.get("fake")
        postgres_now = await self._postgres_cpu()
        postgres = (
            sum(cpu - self._postgres.get(pid, 0.0) for pid, cpu in postgres_now.items())
            if postgres_now
            else None
        )
        daemon = _delta(daemon_now, daemon_before)
        fake = _delta(fake_now, fake_before)
        ours = (daemon or 0.0) + (fake or 0.0) + (postgres or 0.0)
        return CpuFigures(
            wall_s=round(time.monotonic() - self._wall, 3),
            daemon_s=daemon,
            fake_s=fake,
            postgres_s=None if postgres is None else round(postgres, 2),
            machine_busy_pct=round(100 * (busy1 - busy0) / max(1, total1 - total0), 1),
            other_s=round(max(0.0, (busy1 - busy0) / CLOCK_TICKS - ours), 2),
        )


def _delta(now: float | None, before: float | None) -> float | None:
    if now is None or before is None:
        return None
    return round(now - before, 2)


@dataclass
class CpuTrace:
    """CPU seconds of a few processes sampled every ``every`` seconds against wall-clock time
    (epoch seconds, as the tracking log's timestamps and the fake's request log), so that the
    CPU of a window known only afterwards (first status request → last write) can be read off:
    CPU time, unlike wall time, does not grow when other work shares the machine."""

    pids: dict[str, int]
    every: float = 0.05
    _times: list[float] = field(default_factory=list)
    _samples: dict[str, list[float]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sample from now until :meth:`stop`."""
        self._samples = {name: [] for name in self.pids}
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop sampling (one last sample first)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._sample()

    async def _run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(self.every)

    def _sample(self) -> None:
        values = {name: process_cpu(pid) for name, pid in self.pids.items()}
        if any(value is None for value in values.values()):
            return  # a process has gone: keep the samples taken while all were alive
        self._times.append(time.time())
        for name, value in values.items():
            self._samples[name].append(float(value or 0.0))

    def between(self, name: str, first: float | None, last: float | None) -> float | None:
        """CPU seconds of ``name`` from wall time ``first`` to ``last`` (linear between the
        samples around each end); None outside the samples."""
        if first is None or last is None or not self._times:
            return None
        if first < self._times[0] or last > self._times[-1] or last < first:
            return None
        return self._at(name, last) - self._at(name, first)

    def _at(self, name: str, when: float) -> float:
        times, values = self._times, self._samples[name]
        i = bisect.bisect_left(times, when)
        if i == 0:
            return values[0]
        if i >= len(times):
            return values[-1]
        t0, t1, v0, v1 = times[i - 1], times[i], values[i - 1], values[i]
        return v0 if t1 == t0 else v0 + (v1 - v0) * (when - t0) / (t1 - t0)
