"""Before the daemon is ready: ``status`` says why, every other command is ``NotReady``."""

from __future__ import annotations

from typing import Any

import pytest

from irpd.app import starting_status
from irpd.config import Config
from irpd.control import protocol
from irpd.control.starting import NotReady, starting_handlers
from irpd.db.failures import DatabaseUnavailable
from irpd.startup import StartingUp


def _status(starting: StartingUp) -> dict[str, Any]:
    return starting_status(Config(), starting)


async def test_status_answers_and_everything_else_is_not_ready() -> None:
    starting = StartingUp()
    handlers = starting_handlers(lambda: _status(starting))
    assert set(handlers) == set(protocol.COMMANDS)
    starting.attempts = 3
    starting.failed(DatabaseUnavailable("connection refused\n(port 1)"))
    status = await handlers["status"]({})
    assert status["state"] == "starting"
    assert status["database"] == {
        "available": False, "state": "starting", "reason": "unreachable",
        "last_error": "connection refused (port 1)", "sqlstate": None,
    }  # fmt: skip
    summary = status["starting"]["summary"]
    assert summary.startswith("starting: waiting for the database since ")
    assert summary.endswith("(3 attempts), last error: connection refused (port 1)")
    for command in ("ping", "cycle.list", "batch.submit"):
        with pytest.raises(NotReady, match="waiting for the database since"):
            await handlers[command]({})


def test_before_the_first_answer_and_once_opened() -> None:
    starting = StartingUp()
    assert _status(starting)["database"]["available"] is None
    assert StartingUp().summary().startswith("starting: connecting to the database since ")
    starting.phase = "starting the engine"
    assert _status(starting)["database"]["available"] is True
