"""The real ``irpd run`` process under test: its environment, start, readiness, memory, stop."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import logscan
from bench.scrape import ScrapeFigures, Scraper
from bench.stopping import stop_process
from bench.webload import ConsoleFigures, ConsoleLoad
from irpd.control.client import ControlClient, DaemonRefused, DaemonUnreachable


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    """How the benchmark configures the daemon (everything else is the product's default)."""

    dsn: str
    base_url: str
    api_key: str
    requests_per_second: float
    status_batch_size: int | None = None
    worker_id: str = "bench"
    extra: Mapping[str, str] = field(default_factory=dict)
    #: scrape /metrics every this many seconds while the daemon runs (None: no endpoint)
    scrape_every: float | None = None
    #: open event streams of an ``irpd web`` console run beside the daemon (None: no console)
    web_pages: int | None = None
    #: seconds between batch-page requests to that console (None: none)
    web_page_every: float | None = None

    def environment(self, state_dir: Path, socket: Path) -> dict[str, str]:
        """``IRPD_*`` variables for one daemon (inherited ``IRPD_*`` variables are dropped)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("IRPD_")}
        env.update(
            {
                "IRPD_DATABASE_DSN": self.dsn,
                "IRPD_STATE_DIR": str(state_dir),
                "IRPD_CONTROL_SOCKET": str(socket),
                "IRPD_MOODYS_BASE_URL": self.base_url,
                "IRPD_MOODYS_API_KEY": self.api_key,
                "IRPD_MOODYS_VERIFY_TLS": "false",
                "IRPD_ENGINE_WORKER_ID": self.worker_id,
                "IRPD_LOGGING_FORMAT": "json",
                "IRPD_LOGGING_LEVEL": "info",
            }
        )
        if self.requests_per_second > 0:  # 0: the product's default rates
            env["IRPD_MOODYS_REQUESTS_PER_SECOND"] = str(self.requests_per_second)
            env["IRPD_MOODYS_MAX_REQUESTS_PER_SECOND"] = str(self.requests_per_second)
        if self.status_batch_size is not None:
            env["IRPD_MOODYS_STATUS_BATCH_SIZE"] = str(self.status_batch_size)
        if self.scrape_every is not None:
            env["IRPD_METRICS_LISTEN"] = "127.0.0.1:0"
        env.update(self.extra)
        return env


@dataclass(frozen=True, slots=True)
class Memory:
    """Resident memory of a process now and at its peak (bytes)."""

    rss: int
    peak: int


def memory_of(pid: int) -> Memory:
    """VmRSS and VmHWM from ``/proc/<pid>/status`` (Linux)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) * 1024
    return Memory(values.get("VmRSS", 0), values.get("VmHWM", 0))


def irpd_command() -> list[str]:
    """The installed ``irpd`` script next to this Python, else ``python -m irpd.cli.main``."""
    script = Path(sys.executable).with_name("irpd")
    return [str(script)] if script.exists() else [sys.executable, "-m", "irpd.cli.main"]


class DaemonError(RuntimeError):
    """The daemon did not start, died, or did not become ready in time."""


#: what ends one phase (recorded in the report) without ending the run
PHASE_ERRORS = (DaemonError, DaemonUnreachable, DaemonRefused)


class Daemon:
    """One ``irpd run`` process with its own state directory, socket and log file."""

    def __init__(self, settings: DaemonSettings, workdir: Path, name: str) -> None:
        self.settings = settings
        self.dir = workdir / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket = self.dir / "irpd.sock"
        self.log = self.dir / "irpd.log"
        self.config = self.dir / "irpd.toml"
        self._process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.name = name
        self._scraper: Scraper | None = None
        self.scrapes: ScrapeFigures | None = None
        self._console: ConsoleLoad | None = None
        self.console: ConsoleFigures | None = None

    @property
    def pid(self) -> int:
        """The daemon's process id."""
        assert self._process is not None
        return self._process.pid

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> float:
        """Start ``irpd run``; returns the wall-clock instant just before the exec."""
        self.config.write_text("# irpd bench: everything comes from IRPD_* variables\n")
        if self.settings.web_pages is not None:
            folder = self.dir / "web"
            folder.mkdir(exist_ok=True)
            self._console = ConsoleLoad(
                self.settings.dsn, folder, self.settings.web_pages, self.settings.web_page_every
            )
            try:
                self._console.start()
            except RuntimeError as exc:
                self._console = None
                raise DaemonError(str(exc)) from exc
        env = self.settings.environment(self.dir / "state", self.socket)
        with self.log.open("wb") as out:
            self.started_at = time.time()
            self._process = subprocess.Popen(
                [*irpd_command(), "run", "--config", str(self.config)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if self.settings.scrape_every is not None:
            self._scraper = Scraper(self.log, self.settings.scrape_every)
            self._scraper.start()
        return self.started_at

    async def wait_event(self, event: str, timeout: float) -> logscan.LogLine:
        """Wait for the first log line of ``event``; DaemonError if it dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = logscan.first_event(self.log, event)
            if line is not None:
                return line
            if not self.alive():
                raise DaemonError(f"irpd exited before {event}:\n{logscan.tail(self.log)}")
            await asyncio.sleep(0.05)
        raise DaemonError(f"no {event} within {timeout} s:\n{logscan.tail(self.log)}")

    def memory(self) -> Memory:
        """The daemon's resident memory now and at its peak."""
        return memory_of(self.pid)

    def call(self, command: str, args: Mapping[str, Any] | None = None) -> Any:
        """One control command on a fresh connection (as ``irpctl`` does); blocking."""
        with ControlClient(self.socket, timeout=60.0) as client:
            return client.call(command, args)

    async def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM, wait (SIGKILL after ``timeout``); the exit code."""
        process = self._process
        if process is None:
            return None
        if self._scraper is not None:
            self.scrapes = await asyncio.to_thread(self._scraper.stop)
            self._scraper = None
            print(f"[bench] {self.scrapes.line(self.name)}", file=sys.stderr, flush=True)
        if self._console is not None:
            self.console = await asyncio.to_thread(self._console.stop)
            self._console = None
            line = self.console.line(self.name) if self.console else "console: no figures"
            print(f"[bench] {line}", file=sys.stderr, flush=True)
        return await asyncio.to_thread(stop_process, process, signal.SIGTERM, timeout)
