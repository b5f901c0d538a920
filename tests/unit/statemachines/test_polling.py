"""Poll scheduling: bounds, growth, jitter determinism, recovery spread."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statemachines.job import (
    JOB_REPORT_LIFECYCLE,
    POLLABLE_JOB_STATUSES,
    TERMINAL_JOB_STATUSES,
    JobStatus,
)
from statemachines.polling import PollPolicy, first_poll_delay, next_poll_delay

POLICY = PollPolicy(min_interval=5.0, max_interval=300.0, growth=1.5, jitter=0.1)
NO_JITTER = replace(POLICY, jitter=0.0)
pollable = st.sampled_from(sorted(POLLABLE_JOB_STATUSES))


@given(
    pollable,
    st.floats(min_value=0, max_value=1e9),
    st.integers(min_value=0, max_value=10**9),
    st.integers(),
)
def test_delay_is_always_within_bounds(
    status: JobStatus, seconds: float, polls: int, seed: int
) -> None:
    delay = next_poll_delay(status, seconds, polls, POLICY, random.Random(seed))
    assert POLICY.min_interval <= delay <= POLICY.max_interval


@given(pollable, st.integers(), st.sampled_from([POLICY, NO_JITTER]))
def test_first_poll_delay_is_next_poll_delay_of_a_fresh_status(
    status: JobStatus, seed: int, policy: PollPolicy
) -> None:
    fresh = next_poll_delay(status, 0.0, 0, policy, random.Random(seed))
    assert first_poll_delay(policy, random.Random(seed)) == fresh


def test_every_status_a_report_moves_to_is_terminal_or_polled() -> None:
    """The tracker gives a reported non-terminal status its first_poll_delay unchecked."""
    targets = {dest for _, dest in JOB_REPORT_LIFECYCLE.pairs}
    assert targets <= TERMINAL_JOB_STATUSES | POLLABLE_JOB_STATUSES


def test_first_poll_comes_soon_after_submission() -> None:
    delay = next_poll_delay(JobStatus.SUBMITTED, 0.0, 0, NO_JITTER, random.Random(1))
    assert delay == NO_JITTER.min_interval


def test_delay_grows_with_polls_up_to_the_cap() -> None:
    delays = [
        next_poll_delay(JobStatus.QUEUED, 0.0, polls, NO_JITTER, random.Random(1))
        for polls in range(20)
    ]
    assert delays[:3] == [5.0, 7.5, 11.25]
    assert delays == sorted(delays)
    assert delays[-1] == NO_JITTER.max_interval


def test_long_queued_job_found_after_restart_is_not_polled_at_min_interval() -> None:
    delay = next_poll_delay(JobStatus.QUEUED, 3600.0, 0, NO_JITTER, random.Random(1))
    assert delay == NO_JITTER.max_interval
    assert next_poll_delay(JobStatus.QUEUED, 200.0, 0, NO_JITTER, random.Random(1)) == 20.0


def test_jitter_is_deterministic_for_a_seed_and_spreads_values() -> None:
    first = [next_poll_delay(JobStatus.RUNNING, 0, 4, POLICY, random.Random(7)) for _ in "ab"]
    assert first[0] == first[1]
    rng = random.Random(7)
    spread = {next_poll_delay(JobStatus.RUNNING, 0, 4, POLICY, rng) for _ in range(50)}
    assert len(spread) > 1
    base = 5.0 * 1.5**4
    assert all(base * 0.9 <= delay <= base * 1.1 for delay in spread)


@pytest.mark.parametrize("status", sorted(set(JobStatus) - POLLABLE_JOB_STATUSES))
def test_non_pollable_status_is_rejected(status: JobStatus) -> None:
    with pytest.raises(ValueError, match="is not polled"):
        next_poll_delay(status, 0, 0, POLICY, random.Random(1))


@pytest.mark.parametrize(("seconds", "polls"), [(-1.0, 0), (0.0, -1)])
def test_negative_age_is_rejected(seconds: float, polls: int) -> None:
    with pytest.raises(ValueError, match="negative age"):
        next_poll_delay(JobStatus.QUEUED, seconds, polls, POLICY, random.Random(1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_interval": 0.0},
        {"min_interval": 10.0, "max_interval": 5.0},
        {"growth": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
        {"age_fraction": -1.0},
    ],
)
def test_invalid_policy_is_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=r"must|need"):
        replace(POLICY, **kwargs)
