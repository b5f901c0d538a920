"""One LISTEN connection of its own (not from the pool), reconnected after an outage.

``Listener(dsn, channel, on_payload)`` calls ``on_payload(text)`` for every notification and
``on_payload(None)`` after each (re)connection, when notifications may have been missed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import structlog

log = structlog.get_logger("irpd.db.listen")

OnPayload = Callable[[str | None], None]


class Listener:
    """LISTEN on ``channel`` until :meth:`run` is cancelled."""

    def __init__(
        self, dsn: str, channel: str, on_payload: OnPayload, *, retry_seconds: float = 2.0
    ) -> None:
        self._dsn = dsn
        self._channel = channel
        self._on_payload = on_payload
        self._retry = retry_seconds
        self.connected = False

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: object) -> None:
        self._on_payload(str(payload))

    async def run(self) -> None:
        """Listen forever, reconnecting after ``retry_seconds`` when the connection is lost."""
        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(
                    self._dsn, server_settings={"application_name": "irpd-web-listen"}
                )
                lost = asyncio.Event()
                conn.add_termination_listener(_setter(lost))
                await conn.add_listener(self._channel, self._notified)
                self.connected = True
                log.info("web_listen_connected", channel=self._channel)
                self._on_payload(None)
                await lost.wait()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("web_listen_failed", channel=self._channel, error=str(exc))
            finally:
                self.connected = False
                if conn is not None and not conn.is_closed():
                    await conn.close(timeout=2)
            await asyncio.sleep(self._retry)


def _setter(event: asyncio.Event) -> Callable[[Any], None]:
    return lambda _conn: event.set()
