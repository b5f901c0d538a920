"""The control socket during the start-up wait for the database (issue 12's leftover): a real
``irpd run`` whose database is behind a shut TCP gate binds its socket at once; ``irpctl
status`` says it is starting, waiting for the database since when, with the last error, and
exits 3 (not ready); every other command is refused with ``NotReady`` (exit 3); once the gate
opens the same daemon becomes ready and answers everything. A SIGHUP during the wait is kept
and applied once ready."""

from __future__ import annotations

import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

from tests.processes import eventually

from .gate import TcpGate
from .harness import EXIT_OK, EXIT_UNREACHABLE, Daemon, FakeMoodys
from .stack import Stack
from .test_irpctl import human

pytestmark = pytest.mark.e2e


@pytest.fixture
def gated(fake: FakeMoodys, db_dsn: str) -> Iterator[tuple[Stack, TcpGate]]:
    """A stack whose daemon reaches PostgreSQL through a TCP gate (not started; the gate
    shut); SIGTERM on teardown must exit 0."""
    workdir = Path(tempfile.mkdtemp(prefix="irpd-", dir="/tmp"))
    parts = urlsplit(db_dsn)
    socket_dir = parse_qs(parts.query).get("host", [""])[0]  # the embedded server's
    target = f"unix://{socket_dir}/.s.PGSQL.{parts.port or 5432}" if socket_dir else db_dsn
    gate = TcpGate(target, workdir)
    user = parts.netloc.rpartition("@")[0]
    through_gate = urlunsplit(
        parts._replace(netloc=f"{user}@127.0.0.1:{urlsplit(gate.url).port}", query="")
    )
    # retry fast: the test waits for attempts, not for time
    env = {"IRPD_DATABASE_CONNECT_RETRY_MAX": "0.3"}
    stack = Stack(fake, through_gate, workdir, env)
    gate.shut()
    try:
        yield stack, gate
        assert stack.close() in (None, EXIT_OK), stack.logs()
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.close()
        gate.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _waiting(stack: Stack) -> dict[str, Any] | None:
    """``irpctl status`` once it shows a few failed attempts (exit 3: not ready)."""
    result = stack.ctl("status", check=False, timeout=30)
    shown: dict[str, Any] = result.json
    if result.rc != EXIT_UNREACHABLE or "starting" not in shown:
        return None  # not bound yet: DaemonUnreachable
    return shown if shown["starting"]["attempts"] >= 2 else None


def test_status_answers_while_waiting_for_the_database(gated: tuple[Stack, TcpGate]) -> None:
    stack, gate = gated
    daemon = Daemon(stack.settings, 1)
    stack.daemons.append(daemon)

    status = eventually(lambda: _waiting(stack), "status while waiting", 60)
    assert daemon.running, daemon.log_tail()
    assert status["state"] == "starting"
    assert status["pid"] == daemon.proc.pid
    starting = status["starting"]
    assert starting["phase"] == "waiting for the database"
    assert starting["last_error"], starting
    assert starting["summary"].startswith("starting: waiting for the database since ")
    assert f"last error: {starting['last_error']}" in starting["summary"]
    assert status["database"]["available"] is False

    # systemctl reload during the wait: kept, not fatal (Python's default for SIGHUP is to die)
    daemon.proc.send_signal(signal.SIGHUP)
    eventually(lambda: daemon.log_events("config_reload_deferred"), "deferred reload", 30)
    assert daemon.running, daemon.log_tail()

    refused = stack.ctl("cycle", "list", check=False)
    assert refused.rc == EXIT_UNREACHABLE, refused
    assert refused.json["error"]["type"] == "NotReady"
    assert "waiting for the database" in refused.json["error"]["message"]
    assert stack.ctl("cycle", "create", "never", check=False).json["error"]["type"] == "NotReady"
    shown = human(stack, "status")
    assert shown.returncode == EXIT_UNREACHABLE
    assert shown.stdout.startswith("NOT READY: starting: waiting for the database since "), shown

    gate.open()
    daemon.wait_ready()  # irpctl status exits 0
    ready = stack.ctl.json("status")
    assert ready["state"] == "ready"
    assert "starting" not in ready
    assert ready["database"]["available"] is True
    assert stack.ctl.json("cycle", "list")["cycles"] == []
    assert daemon.log_events("database_reached"), daemon.log_tail()
    assert daemon.log_events("config_reloaded"), daemon.log_tail()  # the deferred SIGHUP
