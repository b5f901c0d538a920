"""Operators before background work: control commands in progress, and recently.

The control server reports each command it runs; the tracker asks before its CPU-heavy steps
and waits (briefly, bounded) while a command runs, and polls under a cap for a while after
one arrived. On a 2-core machine tracking 100,000 jobs this is what keeps ``irpctl`` quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable


class OperatorActivity:
    """How many operator commands run now, and when the last one arrived."""

    def __init__(
        self, *, recent_window: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._recent_window = recent_window
        self._clock = clock
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._last = float("-inf")

    def begin(self) -> tuple[float, float]:
        """A command started. Returns (when it arrived, when the one before it did), for
        :meth:`forget_arrival`."""
        previous = self._last
        self._running += 1
        self._last = self._clock()
        self._idle.clear()
        return self._last, previous

    def forget_arrival(self, arrived: float, previous: float) -> None:
        """A polled read (``status``, ``batch.show`` … that waiters and monitors repeat every
        second or so) leaves no recent window behind it, unless another command arrived
        since: else one ``batch wait`` would keep tracking throttled for its whole wait."""
        if self._last == arrived:
            self._last = previous

    def end(self) -> None:
        """A command finished (answered, refused or crashed)."""
        self._running = max(0, self._running - 1)
        if self._running == 0:
            self._idle.set()

    @property
    def running(self) -> int:
        """Commands in progress."""
        return self._running

    def recent(self) -> bool:
        """True while a command runs or one arrived within the recent window."""
        return self._running > 0 or self._clock() - self._last < self._recent_window

    async def yield_to_operators(self, bound: float) -> None:
        """Return once no command runs, or after ``bound`` seconds (background work is
        delayed, never starved, by a long command)."""
        if self._running == 0:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), bound)


class OperatorSpan:
    """One control connection's share of :class:`OperatorActivity`: counted from when its
    operator was admitted until the answer is written, and again for each further request
    on the same connection (idempotent ``start``/``stop``)."""

    def __init__(self, activity: OperatorActivity) -> None:
        self._activity = activity
        self._counted = False
        self._requested = False
        self._arrival = (float("-inf"), float("-inf"))

    def start(self) -> None:
        """The operator is waiting for us."""
        if not self._counted:
            self._counted = True
            self._arrival = self._activity.begin()

    def request(self) -> None:
        """A request arrived and is being answered."""
        self._requested = True
        self.start()

    def stop(self, *, polled: bool = False) -> None:
        """Nothing of this connection's is pending; ``polled``: the request was a polled
        read, which leaves no recent window (:meth:`OperatorActivity.forget_arrival`)."""
        if self._counted:
            self._counted = False
            self._activity.end()
            if polled:
                self._activity.forget_arrival(*self._arrival)

    def stop_if_idle(self) -> None:
        """Stop counting a connection that has not sent a request since it was admitted."""
        if not self._requested:
            self.stop()
