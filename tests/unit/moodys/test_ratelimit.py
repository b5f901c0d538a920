"""The adaptive token bucket and the global not-before instant, on a simulated clock."""

from __future__ import annotations

import asyncio

import pytest

from irpd.errors import ConfigError
from irpd.moodys.ratelimit import AdaptiveRateLimiter, RateLimitSettings, TokenBucket

SETTINGS = RateLimitSettings(
    initial_rate=10.0, min_rate=1.0, max_rate=20.0, burst=2.0, recovery_step=1.0
)


def test_burst_then_rate() -> None:
    bucket = TokenBucket(SETTINGS, now=0.0)
    for _ in range(2):
        assert bucket.wait_time(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_time(0.0) == pytest.approx(0.1)
    assert bucket.wait_time(0.1) == 0.0


def test_rate_limited_halves_rate_drains_bucket_and_floors() -> None:
    bucket = TokenBucket(SETTINGS, now=0.0)
    bucket.on_rate_limited(0.0)
    assert bucket.rate == 5.0
    assert bucket.wait_time(0.0) == pytest.approx(0.2)
    for second in range(1, 11):
        bucket.on_rate_limited(float(second))
    assert bucket.rate == SETTINGS.min_rate


def test_a_burst_of_429s_halves_the_rate_once() -> None:
    bucket = TokenBucket(SETTINGS, now=0.0)
    for _ in range(20):
        bucket.on_rate_limited(0.5)
    assert bucket.rate == 5.0
    bucket.on_rate_limited(0.5 + SETTINGS.halving_interval)
    assert bucket.rate == 2.5


def test_success_recovers_additively_to_the_ceiling() -> None:
    bucket = TokenBucket(SETTINGS, now=0.0)
    bucket.on_rate_limited(0.0)
    bucket.on_success()
    assert bucket.rate == 6.0
    for _ in range(100):
        bucket.on_success()
    assert bucket.rate == SETTINGS.max_rate


def test_not_before_only_moves_later_and_gates_tokens() -> None:
    bucket = TokenBucket(SETTINGS, now=0.0)
    bucket.defer_until(5.0)
    bucket.defer_until(3.0)
    assert bucket.not_before == 5.0
    assert bucket.wait_time(1.0) == pytest.approx(4.0)
    assert bucket.wait_time(5.0) == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"initial_rate": 0.0},
        {"min_rate": 5.0, "initial_rate": 2.0},
        {"burst": 0.5},
        {"recovery_step": -1.0},
    ],
)
def test_invalid_settings_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        RateLimitSettings(**kwargs)


class SimulatedTime:
    """A clock that advances only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def test_no_acquire_returns_before_not_before_for_any_caller() -> None:
    time = SimulatedTime()
    limiter = AdaptiveRateLimiter(SETTINGS, clock=time.clock, sleep=time.sleep)
    limiter.rate_limited(retry_after=2.0)
    granted: list[float] = []

    async def caller() -> None:
        await limiter.acquire()
        granted.append(time.now)

    await asyncio.gather(*(caller() for _ in range(5)))
    assert len(granted) == 5
    assert min(granted) >= 102.0
    assert limiter.rate == 5.0


async def test_acquire_spaces_requests_at_the_rate() -> None:
    time = SimulatedTime()
    limiter = AdaptiveRateLimiter(SETTINGS, clock=time.clock, sleep=time.sleep)
    granted = []
    for _ in range(4):
        await limiter.acquire()
        granted.append(time.now)
    assert granted[:2] == [100.0, 100.0]
    assert granted[2] == pytest.approx(100.1)
    assert granted[3] == pytest.approx(100.2)


async def test_defer_and_not_before_in() -> None:
    time = SimulatedTime()
    limiter = AdaptiveRateLimiter(SETTINGS, clock=time.clock, sleep=time.sleep)
    assert limiter.not_before_in() == 0.0
    limiter.defer(3.0)
    assert limiter.not_before_in() == 3.0
    assert limiter.rate == 10.0
    limiter.succeeded()
    assert limiter.rate == 11.0
