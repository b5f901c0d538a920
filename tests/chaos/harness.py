"""Real processes for the chaos suite: the fake Moody's server, ``irpd run`` daemons that can be
SIGKILLed and restarted on the same database and state directory, and ``irpctl``.

The daemon is reached only through its control socket (``irpctl`` or the control client) and
its JSON log; the fake through its ``/__fake__/`` admin API over plain HTTP.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irpd.control.client import ControlClient, DaemonRefused, DaemonUnreachable
from tests.processes import HarnessError, clean_environment, eventually

API_KEY = "chaos-key"
#: real seconds a daemon may take to answer ``status`` after start
STARTUP_TIMEOUT = 60.0
#: simulated seconds per real second on the fake: a workflow runs for well under a second
TIME_SCALE = 3600.0
#: ``X-RMS-RequestId`` lifetime on the fake, in *simulated* seconds: 24 real hours
IDEMPOTENCY_TTL = 86_400.0 * TIME_SCALE

# --- the fake Moody's server ---------------------------------------------------------------


class FakeServer:
    """A running ``irpd fake-moodys`` subprocess and its admin API."""

    def __init__(self, proc: subprocess.Popen[str], base_url: str, api_key: str) -> None:
        self.proc = proc
        self.base_url = base_url
        self.api_key = api_key

    @classmethod
    def start(
        cls,
        workdir: Path,
        seed: int,
        *,
        api_keys: Sequence[str] = (API_KEY,),
        extra_args: Sequence[str] = (),
    ) -> FakeServer:
        """Start the fake on a free port and read its URL from the first stdout line."""
        log_path = workdir / f"fake-{len(list(workdir.glob('fake-*.log'))) + 1}.log"
        keys = [arg for key in api_keys for arg in ("--api-key", key)]
        command = [
            sys.executable,
            "-m",
            "irpd.cli.main",
            "fake-moodys",
            "--port",
            "0",
            "--time-scale",
            str(TIME_SCALE),
            "--idempotency-ttl",
            str(IDEMPOTENCY_TTL),
            "--seed",
            str(seed),
            *keys,
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
        return cls(proc, "http://" + line.split("http://", 1)[1].strip(), api_keys[0])

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

    def _call(self, method: str, url: str, body: Any, headers: Mapping[str, str]) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            url, data=data, method=method, headers={"Content-Type": "application/json", **headers}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call ``/__fake__/<path>`` and return the decoded JSON answer."""
        return self._call(method, f"{self.base_url}/__fake__/{path}", body, {})

    def set_faults(self, rules: Sequence[Mapping[str, Any]]) -> None:
        """Replace the fault rules (an empty list clears them)."""
        self.admin("POST", "faults", {"rules": [dict(r) for r in rules]})

    def script(self, scripts: Sequence[Mapping[str, Any]]) -> None:
        """Force outcomes of workflows by name."""
        if scripts:
            self.admin("POST", "script", [dict(s) for s in scripts])

    def ledger(self) -> list[dict[str, Any]]:
        """Every submission the fake received."""
        entries: list[dict[str, Any]] = self.admin("GET", "ledger")["entries"]
        return entries

    def request_log(self) -> dict[str, Any]:
        """``{"total", "insideRetryAfter", "requests": [...]}``."""
        log: dict[str, Any] = self.admin("GET", "requests")
        return log

    def workflow_statuses(self, workflow_ids: Iterable[str]) -> dict[str, str]:
        """Workflow id → the status the fake reports now (call with faults cleared)."""
        ids = sorted(set(workflow_ids))
        found: dict[str, str] = {}
        for start in range(0, len(ids), 200):
            chunk = ",".join(ids[start : start + 200])
            url = f"{self.base_url}/riskmodeler/v1/workflows?ids={chunk}&limit=1000"
            answer = self._call("GET", url, None, {"Authorization": self.api_key})
            rows = answer.get("workflows", []) if isinstance(answer, dict) else answer
            for row in rows:
                found[str(row["id"])] = str(row["status"])
        return found


# --- irpctl ----------------------------------------------------------------------------------


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


def irpctl(socket_path: Path, *args: str | int | Path, timeout: float = 120.0) -> CtlResult:
    """Run ``irpctl --socket … --json <args>`` as a subprocess."""
    shown = tuple(str(a) for a in args)
    command = [
        sys.executable,
        "-m",
        "irpd.cli.irpctl",
        "--socket",
        str(socket_path),
        "--json",
        *shown,
    ]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_environment(),
        check=False,
    )
    return CtlResult(shown, done.returncode, done.stdout, done.stderr)


def call(socket_path: Path, command: str, timeout: float = 30.0, **args: Any) -> Any:
    """One control command through the control client (fast: no subprocess)."""
    with ControlClient(socket_path, timeout=timeout) as client:
        return client.call(command, args)


# --- the daemon ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    """Where one daemon keeps its state and what it talks to."""

    db_dsn: str
    moodys_url: str
    workdir: Path
    api_key: str = API_KEY
    worker_id: str = ""
    extra_env: Mapping[str, str] = field(default_factory=dict)

    @property
    def socket_path(self) -> Path:
        """The control socket (short: AF_UNIX paths are limited to 108 bytes)."""
        return self.workdir / "irpd.sock"

    @property
    def state_dir(self) -> Path:
        """The daemon's state directory."""
        return self.workdir / "state"

    def environment(self) -> dict[str, str]:
        """The ``IRPD_*`` configuration of the daemon (fast polls, JSON logs)."""
        env = {
            "IRPD_DATABASE_DSN": self.db_dsn,
            "IRPD_DATABASE_POOL_MIN_SIZE": "1",
            "IRPD_DATABASE_COMMAND_TIMEOUT": "10",
            "IRPD_STATE_DIR": str(self.state_dir),
            "IRPD_CONTROL_SOCKET": str(self.socket_path),
            "IRPD_MOODYS_BASE_URL": self.moodys_url,
            "IRPD_MOODYS_API_KEY": self.api_key,
            "IRPD_MOODYS_VERIFY_TLS": "false",
            "IRPD_MOODYS_REQUESTS_PER_SECOND": "200",
            "IRPD_MOODYS_MAX_REQUESTS_PER_SECOND": "400",
            "IRPD_ENGINE_POLL_MIN_INTERVAL": "0.3",
            "IRPD_ENGINE_POLL_MAX_INTERVAL": "1",
            "IRPD_ENGINE_TRACKER_TICK": "0.1",
            "IRPD_ENGINE_RECONCILE_DEBOUNCE": "0.1",
            "IRPD_ENGINE_DISPATCH_IDLE_INTERVAL": "0.2",
            "IRPD_ENGINE_RECOVERY_SPREAD": "1",
            "IRPD_ENGINE_DB_RETRY_MAX_INTERVAL": "1",
            "IRPD_ENGINE_DRAIN_TIMEOUT": "5",
            "IRPD_LOGGING_FORMAT": "json",
            "IRPD_LOGGING_AGGREGATE_INTERVAL": "0.05",
        }
        if self.worker_id:
            env["IRPD_ENGINE_WORKER_ID"] = self.worker_id
        env.update(self.extra_env)
        return clean_environment(**env)


class Daemon:
    """One ``irpd run`` subprocess; its output goes to ``<name>.log`` in the workdir."""

    def __init__(self, settings: DaemonSettings, name: str) -> None:
        self.settings = settings
        self.name = name
        self.log_path = settings.workdir / f"{name}.log"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "irpd.cli.main", "run"],
                env=settings.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started = time.time()
        self.killed_at: float | None = None

    @property
    def socket_path(self) -> Path:
        """Where this daemon listens."""
        return self.settings.socket_path

    @property
    def running(self) -> bool:
        """Whether the process is still alive."""
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Until the daemon answers ``ping`` (fails if it exits first)."""

        def ready() -> bool | None:
            if not self.running:
                raise HarnessError(
                    f"{self.name} exited with {self.proc.returncode} during start-up:\n"
                    f"{self.log_tail()}"
                )
            try:
                call(self.socket_path, "ping", timeout=5)
            except (DaemonUnreachable, DaemonRefused):
                return None
            return True

        eventually(ready, f"{self.name} to answer on its control socket", timeout)

    def kill(self) -> int:
        """SIGKILL (no drain, nothing released); returns the exit code."""
        if self.running:
            self.killed_at = time.time()
            self.proc.kill()
        return self.proc.wait()

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait for the graceful drain; returns the exit code."""
        if self.running:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise HarnessError(
                f"{self.name} did not stop within {timeout:g} s of SIGTERM:\n{self.log_tail()}"
            ) from None

    def log_text(self) -> str:
        """Everything the daemon wrote."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 80) -> str:
        """The last lines of the daemon's output."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def events(self, *names: str) -> list[dict[str, Any]]:
        """The JSON log records whose ``event`` is one of ``names`` (all when none given)."""
        wanted = set(names)
        found: list[dict[str, Any]] = []
        for line in self.log_text().splitlines():
            if not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and (not wanted or record.get("event") in wanted):
                found.append(record)
        return found


def crashes(daemon: Daemon) -> str:
    """The daemon's task crashes, one line each (empty when none)."""
    return "\n".join(
        f"task {e.get('task')} crashed: {str(e.get('exception', '')).splitlines()[-1:]}"
        for e in daemon.events("task_crashed")
    )


def database_status(daemon: Daemon) -> dict[str, object]:
    """``irpctl status``'s ``database`` part (the command must succeed)."""
    done = irpctl(daemon.socket_path, "status", timeout=30)
    assert done.rc == 0, (
        f"irpctl status failed during the outage (daemon running: {daemon.running}): {done}\n"
        f"{crashes(daemon)}"
    )
    database: dict[str, object] = done.json["database"]
    return database
