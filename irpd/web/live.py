"""Live pages: one LISTEN connection per web process, fanned out to every open page.

PostgreSQL notifies ``irpd_batch_changed`` with a batch id when a batch or its job counts
change (migration 0070). The hub collects the ids, and at most every ``interval`` seconds reads
those batches once (``web_batches_live``) and sends the rows to every subscriber as one
server-sent event — the same single query whether 1 or 500 pages are open. A subscriber that
does not keep up loses its oldest events and is told to refresh (``resync``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog

from irpd.db.database import DatabaseUnavailable

log = structlog.get_logger("irpd.web")

CHANNEL = "irpd_batch_changed"
QUEUE_SIZE = 16

ReadLive = Callable[[Sequence[int]], Awaitable[list[dict[str, Any]]]]


class Hub:
    """Batch-change notifications → one read → every subscriber's queue."""

    def __init__(self, read: ReadLive, *, interval: float = 0.5) -> None:
        self._read = read
        self._interval = interval
        self._pending: set[int] = set()
        self._resync = False
        self._wake = asyncio.Event()
        self._subscribers: set[asyncio.Queue[str]] = set()
        self.sent = 0

    @property
    def subscribers(self) -> int:
        """Open event streams."""
        return len(self._subscribers)

    def notified(self, payload: str | None) -> None:
        """A notification (a batch id), or None after (re)connecting: pages must refresh."""
        if payload is None:
            self._resync = True
        else:
            with contextlib.suppress(ValueError):
                self._pending.add(int(payload))
        self._wake.set()

    def subscribe(self) -> asyncio.Queue[str]:
        """A queue of encoded SSE events for one page."""
        queue: asyncio.Queue[str] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        """The page went away."""
        self._subscribers.discard(queue)

    def _broadcast(self, event: str, data: Any) -> None:
        encoded = f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
        for queue in list(self._subscribers):
            if queue.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    while True:
                        queue.get_nowait()
                queue.put_nowait(_RESYNC)
            else:
                queue.put_nowait(encoded)
        self.sent += 1

    async def run(self) -> None:
        """Forever: wait for notifications, then read and broadcast (a supervised task)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self._interval)  # coalesce a burst into one read
            if self._resync:
                self._resync = False
                self._broadcast("resync", {})
            batch_ids, self._pending = sorted(self._pending), set()
            if not batch_ids or not self._subscribers:
                continue
            try:
                rows = await self._read(batch_ids)
            except DatabaseUnavailable as exc:
                log.warning("web_live_read_failed", error=str(exc))
                self._pending.update(batch_ids)
                self._wake.set()
                await asyncio.sleep(1.0)
                continue
            self._broadcast("batches", {"batches": rows})


_RESYNC = "event: resync\ndata: {}\n\n"
