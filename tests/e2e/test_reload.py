"""SIGHUP on the real daemon: the keys ``config_reloaded`` reports as applied change what the
daemon does (issue 11: ``drain_timeout`` was reported applied and the next stop ignored it;
Moody's circuit breaker's keys), and a key that needs a restart is reported as such."""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path

import pytest

from tests.processes import eventually

from .stack import Stack

pytestmark = pytest.mark.e2e

#: the daemon reads this file at start and again on SIGHUP (IRPD_* variables still win)
CONFIG = Path(tempfile.mkdtemp(prefix="irpd-reload-")) / "irpd.toml"
CONFIG.write_text("[engine]\ndrain_timeout = 20.0\n")
DAEMON_ENV = {"IRPD_CONFIG": str(CONFIG)}


def test_applied_keys_change_the_running_daemon(stack: Stack) -> None:
    daemon = stack.daemon
    CONFIG.write_text(
        "[engine]\ndrain_timeout = 7.0\nlost_workflow_after = 600.0\n"
        "[logging]\naggregate_interval = 5.0\n[control]\nmax_clients = 32\n"
        "[moodys]\ncircuit_open_after = 3\ncircuit_max_probe_interval = 12.0\n"
    )
    daemon.proc.send_signal(signal.SIGHUP)
    (reloaded,) = eventually(
        lambda: daemon.log_events("config_reloaded") or None, "config_reloaded", 30.0
    )
    assert reloaded["applied"] == {
        "engine.drain_timeout": 7.0,
        "engine.lost_workflow_after": 600.0,
        "logging.aggregate_interval": 5.0,
        "moodys.circuit_open_after": 3,
        "moodys.circuit_max_probe_interval": 12.0,
    }
    assert reloaded["restart_needed"] == ["control.max_clients"]
    circuit = stack.ctl.json("status")["moodys"]["circuit"]  # the running breaker's settings
    assert (circuit["open_after"], circuit["max_probe_interval"]) == (3, 12.0)
    assert stack.stop_daemon() == 0
    (stopping,) = daemon.log_events("irpd_stopping")
    assert stopping["drain_timeout"] == 7.0  # the stop uses the reloaded value
