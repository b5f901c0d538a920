"""How many chunks of one sweep may be in flight: requests within the adaptive limit, and a
few more chunks being decided and written.

A chunk holds a status request only until Moody's answers; deciding and writing its reports
takes a while longer (tens of milliseconds; much more on a busy machine). Counting the whole
chunk against the status-request limit would leave the limit partly unused for as long, and
the adaptive limit grows only while it is used. So a sweep sends the next request as soon as
one is answered, while up to ``write_ahead`` answered chunks are still being written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class SweepSlots:
    """Chunks asking Moody's and chunks not yet written, and a wait for room."""

    def __init__(self, write_ahead: int) -> None:
        self.write_ahead = write_ahead
        self.asking = 0
        self.active = 0
        self._freed = asyncio.Event()

    async def room(self, limit: Callable[[], int]) -> None:
        """Wait until fewer than ``limit()`` chunks ask and fewer than that plus
        ``write_ahead`` are unwritten (``limit`` is read again after every change)."""
        while self.asking >= (most := max(1, limit())) or self.active >= most + self.write_ahead:
            self._freed.clear()
            await self._freed.wait()

    def take(self) -> Counted:
        """Count a chunk from now (after :meth:`room`)."""
        self.asking += 1
        self.active += 1
        return Counted(self)

    def _answered(self) -> None:
        self.asking -= 1
        self._freed.set()

    def _done(self) -> None:
        self.active -= 1
        self._freed.set()


class Counted:
    """One counted chunk: :meth:`answered` once Moody's answered, :meth:`done` at its end."""

    __slots__ = ("_asking", "_slots")

    def __init__(self, slots: SweepSlots) -> None:
        self._slots = slots
        self._asking = True

    def answered(self) -> None:
        """Its request is no longer in flight (idempotent)."""
        if self._asking:
            self._asking = False
            self._slots._answered()

    def done(self) -> None:
        """Written (or failed): the chunk no longer counts."""
        self.answered()
        self._slots._done()
