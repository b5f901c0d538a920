"""The retry policy is a pure function: attempts, elapsed time, Retry-After, jitter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from irpd.errors import ConfigError
from irpd.moodys.retry import RetryPolicy, next_delay, parse_retry_after

POLICY = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=8.0, max_elapsed=30.0)


def delay(
    attempt: int,
    *,
    elapsed: float = 0.0,
    retry_after: float | None = None,
    jitter: float = 1.0,
    retryable: bool = True,
) -> float | None:
    return next_delay(
        POLICY,
        attempt=attempt,
        elapsed=elapsed,
        retryable=retryable,
        retry_after=retry_after,
        jitter=jitter,
    )


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert POLICY.backoff_ceiling(30) == 8.0


def test_full_jitter_scales_the_ceiling() -> None:
    assert delay(3, jitter=0.0) == 0.0
    assert delay(3, jitter=0.25) == 1.0


def test_attempts_are_bounded() -> None:
    assert delay(4) == 8.0
    assert delay(5) is None


def test_total_time_is_bounded() -> None:
    assert delay(2, elapsed=27.0) is not None
    assert delay(2, elapsed=28.5) is None


def test_permanent_errors_are_not_retried() -> None:
    assert delay(1, retryable=False) is None


def test_retry_after_is_a_floor_not_jittered() -> None:
    assert delay(1, retry_after=5.0, jitter=0.0) == 5.0
    assert delay(4, retry_after=2.0, jitter=1.0) == 8.0


def test_retry_after_beyond_the_budget_gives_up() -> None:
    assert delay(1, elapsed=10.0, retry_after=25.0) is None


def test_single_attempt_policy_never_retries() -> None:
    once = RetryPolicy(max_attempts=1)
    assert (
        next_delay(once, attempt=1, elapsed=0, retryable=True, retry_after=None, jitter=0.5) is None
    )


@given(
    attempt=st.integers(1, 200),
    elapsed=st.floats(0, 100),
    jitter=st.floats(0, 1),
    retry_after=st.none() | st.floats(0, 50),
)
def test_delay_is_never_negative_and_respects_bounds(
    attempt: int, elapsed: float, jitter: float, retry_after: float | None
) -> None:
    result = delay(attempt, elapsed=elapsed, retry_after=retry_after, jitter=jitter)
    if result is not None:
        assert result >= 0.0
        assert attempt < POLICY.max_attempts
        assert elapsed + result <= POLICY.max_elapsed
        if retry_after is not None:
            assert result >= retry_after


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_attempts": 0},
        {"base_delay": -1.0},
        {"base_delay": 5.0, "max_delay": 1.0},
        {"max_elapsed": -1.0},
    ],
)
def test_invalid_policies_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_retry_after_in_seconds() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0


def test_retry_after_as_http_date() -> None:
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0


@pytest.mark.parametrize("value", [None, "", "soon", "nan", "inf"])
def test_unreadable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value) is None
