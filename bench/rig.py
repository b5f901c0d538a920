"""What every phase shares: the server, the fake process, the options, a work directory."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import logscan
from bench.benchdb import Server
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
        )
        return Daemon(settings, self.workdir, name)

    def profiler(self, daemon: Daemon, name: str) -> Profiler | None:
        """A py-spy recorder of ``daemon`` when ``--profile-dir`` was given."""
        if self.options.profile_dir is None:
            return None
        return Profiler(daemon.pid, self.options.profile_dir / f"{name}.txt")

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
