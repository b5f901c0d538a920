"""The adaptive token bucket (slow start, halving, additive recovery) and the global
not-before instant, on a simulated clock."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from irpd.config import MoodysConfig
from irpd.errors import ConfigError
from irpd.moodys.ratelimit import AdaptiveRateLimiter, RateLimitSettings, TokenBucket
from irpd.wiring import moodys_settings

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


# --- slow start ----------------------------------------------------------------------------
RAMP = RateLimitSettings(
    initial_rate=10.0, min_rate=1.0, max_rate=80.0, burst=2.0, recovery_step=0.5
)


def succeed(bucket: TokenBucket, times: int) -> None:
    for _ in range(times):
        bucket.on_success()


def test_slow_start_doubles_the_rate_per_round_of_successes_up_to_the_max() -> None:
    bucket = TokenBucket(RAMP, now=0.0)
    rates = []
    for _ in range(3):  # a round: as many successes as the rate (one second's worth)
        succeed(bucket, int(bucket.rate))
        rates.append(bucket.rate)
    assert rates == [20.0, 40.0, 80.0]
    succeed(bucket, 1000)
    assert bucket.rate == RAMP.max_rate
    assert bucket.slow_start


def test_slow_start_never_passes_the_max() -> None:
    bucket = TokenBucket(replace(RAMP, max_rate=30.0), now=0.0)
    succeed(bucket, 10)
    assert bucket.rate == 20.0
    succeed(bucket, 20)  # a full round would reach 40
    assert bucket.rate == 30.0


def test_slow_start_below_one_request_per_second_doubles_per_success() -> None:
    bucket = TokenBucket(replace(RAMP, initial_rate=0.25, min_rate=0.1), now=0.0)
    succeed(bucket, 2)
    assert bucket.rate == 1.0
    succeed(bucket, 1)
    assert bucket.rate == 2.0


def test_a_429_ends_slow_start_halves_then_recovers_additively() -> None:
    bucket = TokenBucket(RAMP, now=0.0)
    succeed(bucket, 10)
    bucket.on_rate_limited(1.0)
    assert (bucket.rate, bucket.slow_start) == (10.0, False)
    succeed(bucket, 10)
    assert bucket.rate == 10.0 + 10 * RAMP.recovery_step
    bucket.on_rate_limited(5.0)
    assert bucket.rate == 7.5  # halves as before, and slow start does not come back
    succeed(bucket, 1)
    assert bucket.rate == 7.5 + RAMP.recovery_step


def test_retry_after_and_other_push_back_end_slow_start_without_halving() -> None:
    deferred = TokenBucket(RAMP, now=0.0)
    deferred.defer_until(3.0)
    pushed = TokenBucket(RAMP, now=0.0)
    pushed.on_push_back()
    for bucket in (deferred, pushed):
        assert (bucket.rate, bucket.slow_start) == (RAMP.initial_rate, False)
        succeed(bucket, 2)
        assert bucket.rate == RAMP.initial_rate + 2 * RAMP.recovery_step
    assert deferred.wait_time(1.0) == pytest.approx(2.0)
    assert pushed.wait_time(1.0) == 0.0


async def test_a_429_with_retry_after_defers_every_caller_and_ends_slow_start() -> None:
    time = SimulatedTime()
    limiter = AdaptiveRateLimiter(RAMP, clock=time.clock, sleep=time.sleep)
    limiter.succeeded()
    assert (limiter.rate, limiter.slow_start) == (11.0, True)
    limiter.rate_limited(retry_after=2.0)
    assert (limiter.rate, limiter.slow_start) == (5.5, False)
    await limiter.acquire()
    assert time.now >= 102.0
    limiter.pushed_back()
    assert limiter.rate == 5.5


async def accept_everything(
    limiter: AdaptiveRateLimiter, time: SimulatedTime, until: float
) -> None:
    """Requests as fast as the limiter allows, each a success, until the simulated instant."""
    while time.now < until:
        await limiter.acquire()
        limiter.succeeded()


async def test_with_the_product_defaults_an_accepting_moodys_reaches_the_max_within_2_s() -> None:
    settings = moodys_settings(MoodysConfig(api_key="k")).rate_limit
    time = SimulatedTime()
    limiter = AdaptiveRateLimiter(settings, clock=time.clock, sleep=time.sleep)
    # 500 -> 2,000 requests/s: the rate e-folds once a simulated second, ln 4 = 1.39 s
    await accept_everything(limiter, time, until=102.0)
    assert limiter.rate == settings.max_rate
    # the same Moody's after one 429 at the start: halved, then +recovery_step per success
    time = SimulatedTime()
    limiter = AdaptiveRateLimiter(settings, clock=time.clock, sleep=time.sleep)
    limiter.rate_limited(retry_after=None)
    await accept_everything(limiter, time, until=102.0)
    assert settings.initial_rate / 2 < limiter.rate < settings.initial_rate
