"""Processes of the end-to-end tests: the fake Moody's server, the ``irpd run`` daemon, and
``irpctl`` — each a real subprocess, driven the way an operator would.

Nothing here imports the daemon's internals: the fake is reached through its ``/__fake__/``
admin API over plain HTTP, the daemon only through ``irpctl``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.processes import HarnessError, clean_environment, eventually

API_KEY = "e2e-key"
#: real seconds a daemon may take to answer ``irpctl status`` after start
STARTUP_TIMEOUT = 60.0
#: real seconds a SIGTERM'd daemon may take to drain and exit
STOP_TIMEOUT = 60.0
#: ``irpctl`` exit codes
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

# --- the fake Moody's server ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FakeMark:
    """Positions in the fake's ledger and request log: what came later belongs to one test."""

    ledger_seq: int
    request_seq: int


class FakeMoodys:
    """A running ``irpd fake-moodys`` subprocess and its admin API."""

    def __init__(
        self,
        proc: subprocess.Popen[str],
        base_url: str,
        log_path: Path,
        args: tuple[int, tuple[str, ...]] = (0, ()),
    ) -> None:
        self.proc = proc
        self.base_url = base_url
        self.log_path = log_path
        self._args = args  # (seed, extra arguments): what restart_empty starts again

    @classmethod
    def start(
        cls, workdir: Path, seed: int, extra_args: Sequence[str] = (), log_name: str = "fake-moodys"
    ) -> FakeMoodys:
        """Start the fake on a free port and read its URL from the first stdout line."""
        log_path = workdir / f"{log_name}.log"
        command = [
            sys.executable,
            "-m",
            "irpd.cli.main",
            "fake-moodys",
            "--port",
            "0",
            "--time-scale",
            "3600",
            "--api-key",
            API_KEY,
            "--seed",
            str(seed),
            *extra_args,
        ]
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=log, text=True, env=clean_environment()
            )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if "http://" not in line:
            proc.kill()
            proc.wait()
            raise HarnessError(f"fake Moody's did not start: {line!r}; {log_path.read_text()}")
        base_url = "http://" + line.split("http://", 1)[1].strip()
        return cls(proc, base_url, log_path, (seed, tuple(extra_args)))

    def restart_empty(self) -> None:
        """Stop the fake and start a new one on the same port: Moody's came back knowing
        nothing of the workflows it had, and numbering new ones where the old never went (it
        does not reuse ids); the log goes on in ``fake-moodys-restarted.log``."""
        port = self.base_url.rsplit(":", 1)[1]
        seed, extra = self._args
        self.stop()
        fresh = FakeMoodys.start(
            self.log_path.parent,
            seed,
            (*extra, "--port", port, "--first-workflow-id", "90000001"),
            "fake-moodys-restarted",
        )
        self.proc, self.log_path = fresh.proc, fresh.log_path

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``/__fake__/<path>`` and return the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.base_url}/__fake__/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode())

    def mark(self) -> FakeMark:
        """Where the ledger and the request log stand now."""
        ledger = self.admin("GET", "ledger")["entries"]
        requests = self.admin("GET", "requests")["requests"]
        return FakeMark(
            max((e["seq"] for e in ledger), default=0),
            max((r["seq"] for r in requests), default=0),
        )

    def ledger(self, since: FakeMark) -> list[dict[str, Any]]:
        """Submissions received after ``since``."""
        entries: list[dict[str, Any]] = self.admin("GET", f"ledger?since={since.ledger_seq}")[
            "entries"
        ]
        return entries

    def requests(self, since: FakeMark) -> list[dict[str, Any]]:
        """Requests received after ``since``."""
        records: list[dict[str, Any]] = self.admin("GET", f"requests?since={since.request_seq}")[
            "requests"
        ]
        return records

    def script(
        self, name: str, outcome: str = "FAILED", message: str | None = None, times: int = 1
    ) -> None:
        """Force the outcome of the next ``times`` workflows named ``name``."""
        self.admin(
            "POST", "script", {"name": name, "outcome": outcome, "message": message, "times": times}
        )


# --- irpctl --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CtlResult:
    """How one ``irpctl --json`` run ended."""

    args: tuple[str, ...]
    rc: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        """stdout decoded as JSON."""
        return json.loads(self.stdout)

    def __str__(self) -> str:
        return (
            f"irpctl {' '.join(self.args)} -> exit {self.rc}\n"
            f"stdout: {self.stdout[-2000:]}\nstderr: {self.stderr[-2000:]}"
        )


class Irpctl:
    """``python -m irpd.cli.irpctl --socket … --json …`` as a subprocess."""

    def __init__(self, socket_path: Path) -> None:
        self.socket_path = socket_path

    def command(self, args: Sequence[str]) -> list[str]:
        """The irpctl command line for ``args``."""
        return [
            sys.executable,
            "-m",
            "irpd.cli.irpctl",
            "--socket",
            str(self.socket_path),
            "--json",
            *args,
        ]

    def __call__(
        self, *args: str | float | Path, check: bool = True, timeout: float = 120.0
    ) -> CtlResult:
        """Run irpctl; with ``check`` a non-zero exit fails the test with irpctl's output."""
        shown = tuple(str(a) for a in args)
        done = subprocess.run(
            self.command(shown),
            capture_output=True,
            text=True,
            timeout=timeout,
            env=clean_environment(),
            check=False,
        )
        result = CtlResult(shown, done.returncode, done.stdout, done.stderr)
        if check and result.rc != EXIT_OK:
            raise HarnessError(f"unexpected failure: {result}")
        return result

    def spawn(self, *args: str | float | Path) -> subprocess.Popen[str]:
        """Start irpctl in the background (e.g. a ``batch wait`` across a restart)."""
        return subprocess.Popen(
            self.command(tuple(str(a) for a in args)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_environment(),
        )

    def json(self, *args: str | float | Path) -> Any:
        """Run irpctl (must succeed) and return its JSON output."""
        return self(*args).json


# --- the daemon ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    """Where one daemon keeps its state and what it talks to."""

    db_dsn: str
    moodys_url: str
    workdir: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def socket_path(self) -> Path:
        """The control socket (short: AF_UNIX paths are limited to 108 bytes)."""
        return self.workdir / "irpd.sock"

    @property
    def state_dir(self) -> Path:
        """The daemon's state directory (also decides its worker id)."""
        return self.workdir / "state"

    def environment(self) -> dict[str, str]:
        """The ``IRPD_*`` configuration of the daemon."""
        defaults = {
            "IRPD_DATABASE_DSN": self.db_dsn,
            "IRPD_STATE_DIR": str(self.state_dir),
            "IRPD_CONTROL_SOCKET": str(self.socket_path),
            "IRPD_MOODYS_BASE_URL": self.moodys_url,
            "IRPD_MOODYS_API_KEY": API_KEY,
            "IRPD_MOODYS_VERIFY_TLS": "false",
            "IRPD_ENGINE_POLL_MIN_INTERVAL": "0.5",
            "IRPD_ENGINE_POLL_MAX_INTERVAL": "2",
            "IRPD_ENGINE_RECONCILE_DEBOUNCE": "0.1",
            "IRPD_LOGGING_FORMAT": "json",
        }
        return clean_environment(**{**defaults, **self.extra_env})


class Daemon:
    """One ``irpd run`` subprocess; its output goes to ``irpd-<n>.log`` in the workdir."""

    def __init__(self, settings: DaemonSettings, generation: int) -> None:
        self.settings = settings
        self.log_path = settings.workdir / f"irpd-{generation}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "irpd.cli.main", "run"],
                env=settings.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.ctl = Irpctl(settings.socket_path)

    def wait_ready(self) -> None:
        """Until ``irpctl status`` exits 0 (fails if the daemon exits first). irpctl is only
        started once the control socket exists: each start is a Python process that would
        take CPU from the daemon's own start-up."""

        def exited() -> None:
            if self.proc.poll() is not None:
                raise HarnessError(
                    f"irpd exited with {self.proc.returncode} during start-up:\n{self.log_tail()}"
                )

        def socket_exists() -> bool | None:
            exited()
            return True if self.settings.socket_path.exists() else None

        def ready() -> bool | None:
            exited()
            return True if self.ctl("status", check=False, timeout=30).rc == EXIT_OK else None

        eventually(socket_exists, "irpd's control socket", STARTUP_TIMEOUT, interval=0.05)
        eventually(ready, "irpd to answer irpctl status", STARTUP_TIMEOUT)

    @property
    def running(self) -> bool:
        """Whether the process is still alive."""
        return self.proc.poll() is None

    def terminate(self) -> int:
        """SIGTERM and wait for the graceful drain; returns the exit code."""
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise HarnessError(
                f"irpd did not stop within {STOP_TIMEOUT:g} s of SIGTERM:\n{self.log_tail()}"
            ) from None

    def kill(self) -> int:
        """SIGKILL (no drain, nothing released); returns the exit code."""
        if self.running:
            self.proc.kill()
        return self.proc.wait()

    def log_tail(self, lines: int = 200) -> str:
        """The last lines of the daemon's output."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def log_events(self, event: str) -> list[dict[str, Any]]:
        """The JSON log records with this ``event`` name."""
        found: list[dict[str, Any]] = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if f'"{event}"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("event") == event:
                found.append(record)
        return found
