"""What the control socket answers before the daemon is ready (start-up waits for the
database): ``status`` says why and since when; every other command, ``ping`` included (what
readiness checks send), is refused with :class:`NotReady`, which ``irpctl`` exits 3 on like an
unreachable daemon (docs/control.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from irpd.control import protocol
from irpd.control.server import Handler
from irpd.errors import RetryableError


class NotReady(RetryableError):
    """The daemon is starting (waiting for the database); nothing ran; try again."""

    kind = "NotReady"


def starting_handlers(status: Callable[[], dict[str, Any]]) -> dict[str, Handler]:
    """A handler for every command: ``status`` answers ``status()`` (its ``starting.summary``
    says why), the others raise :class:`NotReady` with that summary."""

    async def answer(_args: dict[str, Any]) -> Any:
        return status()

    async def refuse(_args: dict[str, Any]) -> Any:
        summary = status()["starting"]["summary"]
        raise NotReady(f"irpd is not ready ({summary}); nothing was done, try again")

    return {name: answer if name == "status" else refuse for name in protocol.COMMANDS}
