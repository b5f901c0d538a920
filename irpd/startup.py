"""Start-up waits for the database: an outage at start is not a configuration error.

``irpd run`` opens the database (connect, then migrate) until it succeeds: a server that is
down, starting up, out of connection slots or read-only (a standby before its promotion) is
retried with back-off growing to ``database.connect_retry_max``; systemd hears why
(``STATUS=waiting for the database: …``) and keeps getting ``WATCHDOG=1`` and
``EXTEND_TIMEOUT_USEC`` so that neither the watchdog nor ``TimeoutStartSec=`` ends the wait.
Only what no waiting fixes (a DSN that does not parse, rejected credentials, a missing
database, edited migrations) ends start-up, with exit status 2.

The control socket is bound before the wait (:func:`irpd.app.run_daemon`): :class:`StartingUp`
is what it answers meanwhile (``irpctl status``: waiting for the database since when, how
many attempts, the last error; every other command: ``NotReady``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog

from irpd.config import Config
from irpd.db.bootstrap import OpenedDatabase, open_database
from irpd.db.failures import DatabaseUnavailable
from irpd.systemd import Notifier, watchdog_interval

log = structlog.get_logger("irpd.startup")

#: the first retry comes after this many seconds; each next one waits twice as long
FIRST_RETRY = 1.0
#: while waiting, ``database_waiting`` is logged again this often, and whenever the cause
#: changes (e.g. from "refused" to "too many clients")
LOG_EVERY = 60.0
#: start-up notifications (WATCHDOG=1, EXTEND_TIMEOUT_USEC) are sent at least this often
KEEPALIVE = 10.0


@dataclass(slots=True)
class StartingUp:
    """Where start-up is, for the control socket before the daemon is ready."""

    #: ``connecting to the database``, ``waiting for the database``, ``starting the engine``
    phase: str = "connecting to the database"
    since: datetime = field(default_factory=lambda: datetime.now(UTC))
    attempts: int = 0
    last_error: str | None = None
    reason: str | None = None
    sqlstate: str | None = None

    def failed(self, error: DatabaseUnavailable) -> None:
        """An attempt to open the database failed with a transient error."""
        self.phase = "waiting for the database"
        self.last_error = " ".join(str(error).split())
        self.reason, self.sqlstate = error.reason, error.sqlstate

    def summary(self) -> str:
        """One line: ``starting: waiting for the database since …, last error …``."""
        text = f"starting: {self.phase} since {self.since.isoformat(timespec='seconds')}"
        if self.attempts:
            text += f" ({self.attempts} attempts)"
        return f"{text}, last error: {self.last_error}" if self.last_error else text

    def snapshot(self) -> dict[str, Any]:
        """JSON-able, for ``status``'s ``starting`` part."""
        return {
            "phase": self.phase,
            "since": self.since.isoformat(timespec="seconds"),
            "attempts": self.attempts,
            "last_error": self.last_error,
            "reason": self.reason,
            "sqlstate": self.sqlstate,
            "summary": self.summary(),
        }


def waiting_status(error: DatabaseUnavailable) -> str:
    """The one-line systemd STATUS= while waiting."""
    text = " ".join(str(error).split())
    return f"waiting for the database: {text}"[:240]


async def keep_start_alive(notifier: Notifier) -> None:
    """While start-up is still running: ``WATCHDOG=1`` (when the watchdog is on) and
    ``EXTEND_TIMEOUT_USEC`` every few seconds, so a long wait is not taken for a hang."""
    interval = watchdog_interval()
    step = min(KEEPALIVE, interval) if interval else KEEPALIVE
    while True:
        if interval is not None:
            notifier.watchdog()
        notifier.extend_timeout(3 * step)
        await asyncio.sleep(step)


async def open_when_ready(
    config: Config,
    notifier: Notifier,
    stop: asyncio.Event,
    *,
    rng: random.Random | None = None,
    starting: StartingUp | None = None,
) -> OpenedDatabase | None:
    """Open (and migrate) the database, waiting for it as long as it takes; None when
    ``stop`` is set first (SIGTERM during the wait). ``starting`` follows the attempts."""
    rng = rng or random.Random()
    starting = starting or StartingUp()
    keepalive = asyncio.create_task(keep_start_alive(notifier), name="irpd:start-keepalive")
    started = time.monotonic()
    delay = FIRST_RETRY
    logged_at = float("-inf")
    logged_cause = ""
    try:
        while not stop.is_set():
            starting.attempts += 1
            try:
                opened = await _unless_stopped(
                    open_database(config.database, config.state.dir), stop
                )
            except DatabaseUnavailable as exc:
                waited = time.monotonic() - started
                pause = min(delay, config.database.connect_retry_max) * (0.8 + 0.4 * rng.random())
                delay *= 2
                starting.failed(exc)
                notifier.status(waiting_status(exc))
                cause = f"{exc.reason}:{type(exc.__cause__).__name__}"
                if cause != logged_cause or time.monotonic() - logged_at >= LOG_EVERY:
                    logged_at, logged_cause = time.monotonic(), cause
                    log.warning(
                        "database_waiting",
                        reason=exc.reason,
                        error=str(exc),
                        sqlstate=exc.sqlstate,
                        attempts=starting.attempts,
                        waited_seconds=round(waited, 1),
                        retry_in=round(pause, 1),
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                continue
            if opened is None:
                break
            starting.phase = "starting the engine"
            if starting.attempts > 1:
                log.info(
                    "database_reached",
                    attempts=starting.attempts,
                    waited_seconds=round(time.monotonic() - started, 1),
                )
            return opened
        log.info("database_wait_abandoned", attempts=starting.attempts)
        return None
    finally:
        keepalive.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keepalive


async def _unless_stopped(
    opening: Awaitable[OpenedDatabase], stop: asyncio.Event
) -> OpenedDatabase | None:
    """``opening``'s result, or None (and ``opening`` cancelled) when ``stop`` is set first:
    a connection attempt to a silent host may take a minute."""
    task = asyncio.ensure_future(opening)
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    return None
