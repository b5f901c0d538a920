"""The client-wide request rate: an adaptive token bucket plus a global "not before" instant.

Every request of a client takes a token first. Until Moody's first pushes back the rate is in
*slow start* (TCP's): each success adds one request/s, so the rate doubles per round of
successes (one second's worth at the current rate) up to the ceiling. A 429 ends slow start for
good, halves the rate (and drains the bucket) for every caller; from then on each success adds
``recovery_step`` back (additive increase). A ``Retry-After`` sets a "not before" instant that
no request of this client is sent before, and also ends slow start (without halving).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from irpd.errors import ConfigError

#: waits shorter than this (floating-point residue) count as zero
_RESOLUTION: Final = 1e-9


@dataclass(frozen=True, slots=True)
class RateLimitSettings:
    """Requests per second: start, floor, ceiling; burst size; recovery per success."""

    initial_rate: float = 20.0
    min_rate: float = 0.2
    max_rate: float = 50.0
    burst: float = 10.0
    recovery_step: float = 0.1
    #: 429s within this many seconds of a halving do not halve again (one burst of
    #: concurrent 429s is one signal, not twenty)
    halving_interval: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.min_rate <= self.initial_rate <= self.max_rate:
            raise ConfigError("rate limits must satisfy 0 < min_rate <= initial_rate <= max_rate")
        if self.burst < 1:
            raise ConfigError("rate limit burst must be at least 1")
        if self.recovery_step < 0:
            raise ConfigError("rate limit recovery_step must not be negative")


class TokenBucket:
    """The bucket's arithmetic; callers pass the current time, nothing here sleeps."""

    __slots__ = (
        "_last_halving",
        "_settings",
        "_tokens",
        "_updated_at",
        "not_before",
        "rate",
        "slow_start",
    )

    def __init__(self, settings: RateLimitSettings, now: float) -> None:
        self._settings = settings
        self.rate = settings.initial_rate
        self._tokens = settings.burst
        self._updated_at = now
        self.not_before = now
        self._last_halving = now - settings.halving_interval
        #: no push-back seen yet: successes double the rate per round instead of adding a step
        self.slow_start = True

    def _refill(self, now: float) -> None:
        if now > self._updated_at:
            gained = (now - self._updated_at) * self.rate
            self._tokens = min(self._settings.burst, self._tokens + gained)
            self._updated_at = now

    def wait_time(self, now: float) -> float:
        """Seconds until a token may be taken (0 when one may be taken now)."""
        self._refill(now)
        token_wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
        wait = max(self.not_before - now, token_wait)
        return wait if wait > _RESOLUTION else 0.0

    def take(self, now: float) -> None:
        """Spend one token (call only when :meth:`wait_time` returned 0)."""
        self._refill(now)
        self._tokens -= 1

    def on_rate_limited(self, now: float) -> None:
        """A 429: halve the rate (not below the floor, at most once per halving interval)
        and drain the bucket; slow start is over."""
        self._refill(now)
        self.slow_start = False
        if now - self._last_halving >= self._settings.halving_interval:
            self.rate = max(self._settings.min_rate, self.rate / 2)
            self._last_halving = now
        self._tokens = min(self._tokens, 0.0)

    def on_success(self) -> None:
        """A successful response: grow towards the ceiling; in slow start by one request/s
        (by the rate itself below 1/s), so ``rate`` successes double it; after it by
        ``recovery_step``."""
        step = min(1.0, self.rate) if self.slow_start else self._settings.recovery_step
        self.rate = min(self._settings.max_rate, self.rate + step)

    def on_push_back(self) -> None:
        """Moody's said "slow down" without a 429 (a ``Retry-After``, a 502/503/504, a
        time-out): slow start is over; the rate itself is left as it is."""
        self.slow_start = False

    def defer_until(self, instant: float) -> None:
        """No token before ``instant`` (only ever moves later); slow start is over."""
        self.on_push_back()
        self.not_before = max(self.not_before, instant)


class AdaptiveRateLimiter:
    """The async face of :class:`TokenBucket`, shared by every caller of one client."""

    def __init__(
        self,
        settings: RateLimitSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._bucket = TokenBucket(settings, clock())
        self._lock = asyncio.Lock()

    @property
    def rate(self) -> float:
        """The current permitted requests per second."""
        return self._bucket.rate

    @property
    def slow_start(self) -> bool:
        """True until Moody's first pushed back (the rate doubles per round of successes)."""
        return self._bucket.slow_start

    def not_before_in(self) -> float:
        """Seconds until requests may be sent again (0 when not deferred)."""
        return max(self._bucket.not_before - self._clock(), 0.0)

    def now(self) -> float:
        """The limiter's clock (monotonic seconds)."""
        return self._clock()

    async def acquire(self) -> None:
        """Wait for a token and for the "not before" instant; return just before sending.

        Waiters queue in FIFO order on one lock, so only the head sleeps; the final check and
        the take happen without an ``await`` in between.
        """
        async with self._lock:
            while True:
                now = self._clock()
                wait = self._bucket.wait_time(now)
                if wait <= 0:
                    self._bucket.take(now)
                    return
                await self._sleep(wait)

    def rate_limited(self, retry_after: float | None) -> None:
        """Record a 429 (slows every caller) and its ``Retry-After`` seconds, if any."""
        now = self._clock()
        self._bucket.on_rate_limited(now)
        if retry_after is not None:
            self._bucket.defer_until(now + retry_after)

    def defer(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (a ``Retry-After`` on another status)."""
        self._bucket.defer_until(self._clock() + seconds)

    def pushed_back(self) -> None:
        """Record a 502/503/504 or a time-out without ``Retry-After``: ends slow start."""
        self._bucket.on_push_back()

    def succeeded(self) -> None:
        """Record a successful response."""
        self._bucket.on_success()
