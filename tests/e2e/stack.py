"""One test's stack: a fresh database, the module's fake Moody's, and an irpd daemon that can
be stopped, killed and started again on the same database and state directory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.processes import HarnessError

from .gate import TcpGate
from .harness import (
    EXIT_OK,
    Daemon,
    DaemonSettings,
    FakeMark,
    FakeMoodys,
    Irpctl,
)


class Stack:
    """The processes of one test; ``ctl`` drives the current daemon."""

    def __init__(
        self,
        fake: FakeMoodys,
        db_dsn: str,
        workdir: Path,
        extra_env: Mapping[str, str] | None = None,
        gate: TcpGate | None = None,
    ) -> None:
        self.fake = fake
        self.db_dsn = db_dsn
        #: when given, the daemon reaches the fake through it (outages on demand)
        self.gate = gate
        url = gate.url if gate is not None else fake.base_url
        self.settings = DaemonSettings(db_dsn, url, workdir, dict(extra_env or {}))
        self.mark: FakeMark = fake.mark()
        self.daemons: list[Daemon] = []

    @property
    def daemon(self) -> Daemon:
        """The most recently started daemon."""
        if not self.daemons:
            raise HarnessError("no daemon was started")
        return self.daemons[-1]

    @property
    def ctl(self) -> Irpctl:
        """irpctl bound to the daemon's control socket."""
        return Irpctl(self.settings.socket_path)

    def start_daemon(self) -> Daemon:
        """Start ``irpd run`` on this stack's database and wait until it answers."""
        if self.daemons and self.daemon.running:
            raise HarnessError("a daemon of this stack is still running")
        daemon = Daemon(self.settings, len(self.daemons) + 1)
        self.daemons.append(daemon)
        daemon.wait_ready()
        return daemon

    def stop_daemon(self) -> int:
        """SIGTERM the daemon; it must drain and exit 0."""
        rc = self.daemon.terminate()
        if rc != EXIT_OK:
            raise HarnessError(f"irpd exited with {rc} after SIGTERM:\n{self.daemon.log_tail()}")
        return rc

    def ledger(self) -> list[dict[str, Any]]:
        """Submissions the fake received during this test."""
        return self.fake.ledger(self.mark)

    def requests(self) -> list[dict[str, Any]]:
        """Requests the fake received during this test."""
        return self.fake.requests(self.mark)

    def logs(self) -> str:
        """Every daemon's output tail, for a failure report."""
        parts = [
            f"=== {d.log_path.name} (exit {d.proc.poll()}) ===\n{d.log_tail()}"
            for d in self.daemons
        ]
        return "\n".join(parts)

    def close(self) -> int | None:
        """Stop a daemon left running (SIGTERM); its exit code, or None if none was running."""
        if self.daemons and self.daemon.running:
            return self.daemon.terminate()
        return None
