"""systemd integration: sd_notify messages and the watchdog, without libsystemd.

``READY=1`` is sent after recovery and once the control socket is bound; ``WATCHDOG=1`` only by
a coroutine on the main event loop while the loop is responsive and the database answers, so a
stalled loop or a dead database connection gets the process restarted; ``STOPPING=1`` and
``EXTEND_TIMEOUT_USEC`` while draining; ``STATUS=`` carries a one-line summary.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("irpd.systemd")


class Notifier:
    """Sends datagrams to ``$NOTIFY_SOCKET`` (a no-op when it is not set)."""

    def __init__(self, address: str | None = None) -> None:
        raw = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self._address = ("\0" + raw[1:]) if raw.startswith("@") else raw
        self._sock: socket.socket | None = None
        if self._address:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            # never block the event loop on a service manager that does not read its queue
            self._sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        """True when running under a notify-aware supervisor."""
        return self._sock is not None

    def send(self, *fields: str) -> None:
        """Send ``KEY=VALUE`` fields in one datagram; failures are logged, never raised."""
        if self._sock is None:
            return
        try:
            self._sock.sendto("\n".join(fields).encode(), self._address)
        except OSError as exc:
            log.warning("sd_notify_failed", error=str(exc))

    def ready(self, status: str) -> None:
        """Startup finished."""
        self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def status(self, status: str) -> None:
        """Update the one-line status."""
        self.send(f"STATUS={status}")

    def stopping(self, extend_seconds: float) -> None:
        """Shutdown began; ask for time to drain."""
        self.send(
            "STOPPING=1",
            f"EXTEND_TIMEOUT_USEC={int(extend_seconds * 1_000_000)}",
            "STATUS=draining",
        )

    def extend_timeout(self, seconds: float) -> None:
        """Ask for ``seconds`` more before the current state (e.g. start-up) times out."""
        self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    def watchdog(self) -> None:
        """Pet the watchdog."""
        self.send("WATCHDOG=1")

    def close(self) -> None:
        """Release the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval() -> float | None:
    """Half of ``$WATCHDOG_USEC`` in seconds when the watchdog is enabled for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1_000_000 / 2
    except ValueError:
        return None


async def watchdog_loop(
    notifier: Notifier, interval: float, healthy: Callable[[], Awaitable[bool]]
) -> None:
    """Pet the watchdog every ``interval`` s while ``healthy()`` says so (a supervised task).

    A health check that takes longer than ``interval`` counts as unhealthy (and is logged), and
    the time it took is part of the interval, so a slow check cannot stretch the gap between
    two ``WATCHDOG=1`` past ``WatchdogSec`` unnoticed.
    """
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        try:
            ok = await asyncio.wait_for(healthy(), interval)
        except TimeoutError:
            log.warning("watchdog_withheld", reason="health check timed out")
        else:
            if ok:
                notifier.watchdog()
            else:
                log.warning("watchdog_withheld", reason="unhealthy")
        await asyncio.sleep(max(0.0, interval - (loop.time() - started)))
