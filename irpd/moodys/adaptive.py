"""An adaptive concurrency limit for Moody's requests (a gradient limiter, pure asyncio).

How many ``ids=`` status requests, and how many submissions, may be in flight is not a
constant: it follows what Moody's latency says about its queue, in the spirit of TCP Vegas and
Netflix's gradient limiter (one limit each: the status reads' and the submissions').

- Every full request's round-trip time is a sample. ``long`` is a slow moving average (the
  latency Moody's has when it is not queueing our requests), ``short`` a fast one (now).
  Both count in round trips, not samples: with many requests in flight a round trip brings
  as many samples.
- While ``short`` stays within ``tolerance`` × ``long`` (no queue building) and the limit is
  in use, the limit grows by about its square root per sample (a slow start); as ``short``
  rises above that, the gradient ``tolerance × long / short`` (at least 0.5) shrinks it,
  smoothed per round trip.
- An overload signal (a 429, a 5xx or a time-out that survived the client's retries, or
  requests that only succeeded after retrying) halves it at once, at most once per
  ``backoff_interval``.
- It stays within ``minimum`` .. ``maximum`` (``moodys.status_concurrency`` or
  ``moodys.submit_concurrency``, also the transport's hard semaphores), and never above
  what the rate limiter lets through in one round trip (``rate × long``): more requests in
  flight than that would only wait for tokens.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Final

#: samples the slow and the fast averages follow
LONG_WINDOW: Final = 100
SHORT_WINDOW: Final = 8


@dataclass(frozen=True, slots=True)
class AdaptiveSettings:
    """Bounds and reflexes of the limit."""

    initial: float = 4.0
    minimum: int = 1
    maximum: int = 16
    #: short latency up to this multiple of the long one counts as "no queue"
    tolerance: float = 1.5
    #: weight of each new limit estimate
    smoothing: float = 0.2
    #: overload signals within this many seconds of a halving do not halve again
    backoff_interval: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.minimum <= self.maximum:
            raise ValueError("adaptive limit: need 1 <= minimum <= maximum")
        if self.tolerance < 1 or not 0 < self.smoothing <= 1:
            raise ValueError("adaptive limit: tolerance >= 1 and 0 < smoothing <= 1")


class AdaptiveConcurrency:
    """A semaphore whose size follows the latency and errors of what it guards."""

    def __init__(
        self,
        settings: AdaptiveSettings,
        *,
        rate: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._limit = min(max(settings.initial, settings.minimum), settings.maximum)
        self._rate = rate
        self._clock = clock
        self._in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._long: float | None = None
        self._short: float | None = None
        self._backed_off_at = -math.inf
        self.samples = 0
        self.overloads = 0

    # --- the limit -------------------------------------------------------------------------
    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        bound = self.settings.maximum
        if self._rate is not None and self._long is not None:
            bound = min(bound, max(1, math.ceil(self._rate() * self._long)))
        return max(self.settings.minimum, min(int(self._limit), bound))

    @property
    def in_flight(self) -> int:
        """Requests holding a slot."""
        return self._in_flight

    def latency(self) -> tuple[float | None, float | None]:
        """The slow and fast latency averages (seconds), once sampled."""
        return self._long, self._short

    def record(self, rtt: float) -> None:
        """A full request's round trip (seconds) that succeeded without retries."""
        if rtt <= 0:
            return
        self.samples += 1
        if self._long is None or self._short is None:
            self._long = self._short = rtt
            return
        per_trip = max(1, self._in_flight)  # samples per round trip while in use
        # "now" is at least the last round trip: with 100 requests in flight, 8 samples are
        # noise, and every lucky few would let the limit grow
        self._short += (rtt - self._short) / max(SHORT_WINDOW, per_trip)
        # the baseline follows faster downwards: it estimates latency without our queue.
        # Upwards it moves over ~LONG_WINDOW round trips, not samples: with 100 requests in
        # flight, 100 samples are one round trip, and the queue we build would become the
        # baseline within it (the limit would then grow against a struggling Moody's)
        step = LONG_WINDOW * per_trip if rtt >= self._long else SHORT_WINDOW
        self._long += (rtt - self._long) / step
        gradient = max(0.5, min(1.0, self.settings.tolerance * self._long / self._short))
        used = self._in_flight + 1 >= self._limit / 2  # +1: the request just finished
        estimate = self._limit * gradient + (math.sqrt(self._limit) if used else 0.0)
        # no queue: grow per sample (about doubling per round trip, a slow start); a queue
        # building: move towards the estimate by ``smoothing`` per round trip, not per
        # sample, or a hundred samples of one round trip would shrink it to the minimum
        weight = self.settings.smoothing / (1 if gradient >= 1 else per_trip)
        smoothed = self._limit + (estimate - self._limit) * weight
        self._limit = min(max(smoothed, self.settings.minimum), self.settings.maximum)
        self._wake()

    def overloaded(self) -> None:
        """Moody's pushed back (429, 5xx, time-out, or success only after retries)."""
        now = self._clock()
        if now - self._backed_off_at < self.settings.backoff_interval:
            return
        self._backed_off_at = now
        self.overloads += 1
        self._limit = max(self.settings.minimum, self._limit / 2)

    # --- the semaphore -----------------------------------------------------------------------
    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one of ``limit`` slots for the body."""
        await self._acquire()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._wake()

    async def _acquire(self) -> None:
        if not self._waiters and self._in_flight < self.limit:
            self._in_flight += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # _wake() reserved a slot for us
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._in_flight -= 1  # woken and cancelled at once: hand the slot on
                self._wake()
            else:
                self._waiters.remove(waiter)
            raise

    def _wake(self) -> None:
        """Give free slots to waiters, first come first served."""
        while self._waiters and self._in_flight < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._in_flight += 1
                waiter.set_result(None)
