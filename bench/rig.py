"""What every phase shares: the server, the fake process, the options, a work directory."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import logscan
from bench.benchdb import BenchDb, Server
from bench.cpu import CpuMeter
from bench.daemon import Daemon, DaemonSettings
from bench.fake_client import FakeProcess
from bench.figures import LoopLag
from bench.profiler import Profiler
from irpd.moodys.fake import FakeSettings

#: the fake's API key (bench.fake_server runs with the default settings' key)
API_KEY = FakeSettings().api_key


@dataclass(frozen=True, slots=True)
class Options:
    """Benchmark knobs (from the command line)."""

    sizes: tuple[int, ...] = (1_000, 10_000, 100_000)
    submit_jobs: int = 10_000
    control_calls: int = 200
    requests_per_second: float = 10_000.0
    status_batch_size: int | None = None
    pgbench_scale: int = 10
    pgbench_seconds: int = 10
    phase_timeout: float = 600.0
    keep_databases: bool = False
    profile_dir: Path | None = None
    scrape_every: float | None = None
    #: open event streams of an ``irpd web`` beside every daemon (None: no console)
    web_pages: int | None = None
    #: seconds between batch-page requests to that console (None: none)
    web_page_every: float | None = None
    #: seconds the fake adds to every Moody's call (0: none)
    moodys_latency: float = 0.0
    #: jobs of the listing-while-tracking measurement (0 skips it)
    listing_jobs: int = 100_000
    #: seconds between the first sweep and the listing (start-up leaves the lag window)
    listing_settle: float = 62.0


@dataclass
class Rig:
    """The running pieces of one benchmark run."""

    server: Server
    fake: FakeProcess
    workdir: Path
    options: Options
    profiles: list[str] = field(default_factory=list)

    def daemon(self, dsn: str, name: str, extra: Mapping[str, str] | None = None) -> Daemon:
        """A daemon (not started) on ``dsn``, talking to the fake."""
        settings = DaemonSettings(
            dsn=dsn,
            base_url=self.fake.base_url,
            api_key=API_KEY,
            requests_per_second=self.options.requests_per_second,
            status_batch_size=self.options.status_batch_size,
            extra=dict(extra or {}),
            scrape_every=self.options.scrape_every,
            web_pages=self.options.web_pages,
            web_page_every=self.options.web_page_every,
        )
        return Daemon(settings, self.workdir, name)

    @contextmanager
    def profiling(self, daemon: Daemon, name: str) -> Iterator[None]:
        """With ``--profile-dir``: py-spy profiles of the daemon (``name.txt``) and of the fake
        (``name-fake.txt``) for the duration of the block."""
        folder = self.options.profile_dir
        if folder is None:
            yield
            return
        recorders = [
            Profiler(daemon.pid, folder / f"{name}.txt"),
            Profiler(self.fake.pid, folder / f"{name}-fake.txt"),
        ]
        started = [recorder for recorder in recorders if recorder.start()]
        try:
            yield
        finally:
            for recorder in started:
                path = recorder.stop()
                if path is not None:
                    self.profiles.append(str(path))

    def cpu_meter(self, db: BenchDb) -> CpuMeter:
        """A CPU meter of the daemon, the fake and the daemon's backends on ``db``."""
        return CpuMeter(self.fake.pid, db.daemon_backends)

    async def status(self, daemon: Daemon) -> dict[str, Any]:
        """``irpctl status`` of the daemon."""
        result: dict[str, Any] = await asyncio.to_thread(daemon.call, "status")
        return result


def loop_lag(status: Mapping[str, Any]) -> LoopLag:
    """engine.event_loop_lag of a status answer."""
    lag = status.get("engine", {}).get("event_loop_lag", {})
    return LoopLag(lag.get("p50_ms"), lag.get("p99_ms"), lag.get("max_ms"))


def since_start(line: logscan.LogLine | None, started: float) -> float | None:
    """Seconds from ``started`` (epoch) to a log line, None when it is missing."""
    if line is None or line.epoch is None:
        return None
    return round(line.epoch - started, 3)
