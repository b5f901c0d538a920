"""The circuit breaker's arithmetic: when it opens, how probes are spaced, what closes it."""

from __future__ import annotations

import pytest

from irpd.errors import ConfigError
from irpd.moodys.circuit import CircuitBreaker, CircuitSettings

SETTINGS = CircuitSettings(
    open_after=3, open_min_seconds=2.0, first_probe=1.0, max_probe_interval=5.0
)


def _opened(now: float = 10.0) -> CircuitBreaker:
    breaker = CircuitBreaker(SETTINGS)
    for t in (now - 2.0, now - 1.0, now):
        breaker.outage(t, probe=False)
    assert breaker.is_open
    return breaker


def test_it_opens_only_after_enough_failures_over_enough_time() -> None:
    breaker = CircuitBreaker(SETTINGS)
    for t in (0.0, 0.1, 0.2, 0.3, 0.4):  # five failures in 0.4 s: a blip, not an outage
        assert not breaker.outage(t, probe=False)
    assert breaker.outage(2.0, probe=False)
    assert breaker.admit(2.5) == "refuse"


def test_an_answer_in_between_starts_the_count_over() -> None:
    breaker = CircuitBreaker(SETTINGS)
    breaker.outage(0.0, probe=False)
    breaker.outage(1.0, probe=False)
    assert not breaker.reached()
    assert not breaker.outage(2.0, probe=False)
    assert not breaker.outage(3.0, probe=False)
    assert breaker.outage(4.0, probe=False)


def test_one_probe_at_a_time_at_doubling_intervals_up_to_the_ceiling() -> None:
    breaker = _opened(10.0)
    now, gaps = 10.0, []
    for _ in range(6):
        due = breaker.next_probe_at
        assert breaker.admit(due - 0.01) == "refuse"
        assert breaker.admit(due) == "probe"
        assert breaker.admit(due) == "refuse"  # the probe is still out
        gaps.append(round(due - now, 3))
        now = due + 0.5
        breaker.outage(now, probe=True)
    assert gaps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]  # from each failed probe to the next
    assert breaker.probes == 6


def test_the_first_answer_closes_it() -> None:
    breaker = _opened()
    assert breaker.admit(breaker.next_probe_at) == "probe"
    assert breaker.reached()
    assert breaker.admit(0.0) == "send"
    assert not breaker.is_open


def test_an_abandoned_probe_lets_the_next_one_go() -> None:
    breaker = _opened()
    due = breaker.next_probe_at
    assert breaker.admit(due) == "probe"
    breaker.abandoned(probe=True)
    assert breaker.admit(due) == "probe"


@pytest.mark.parametrize(
    "values",
    [{"open_after": 0}, {"first_probe": 0.0}, {"first_probe": 9.0, "max_probe_interval": 5.0}],
)
def test_bad_settings_are_refused(values: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        CircuitSettings(**values)  # type: ignore[arg-type]


def test_reloaded_settings_bound_an_open_circuit_at_once() -> None:
    """SIGHUP: a lower probe ceiling brings the next probe forward; a closed circuit opens
    by the new count."""
    breaker = _opened(10.0)
    for _ in range(3):  # failed probes: the interval grows to the ceiling (5 s)
        now = breaker.next_probe_at
        assert breaker.admit(now) == "probe"
        breaker.outage(now, probe=True)
    assert breaker.interval == 5.0
    lower = CircuitSettings(open_after=3, open_min_seconds=2.0, first_probe=1.0,
                            max_probe_interval=2.0)  # fmt: skip
    breaker.reconfigure(lower, now)
    assert (breaker.interval, breaker.next_probe_at) == (2.0, now + 2.0)
    assert breaker.reached()
    breaker.reconfigure(CircuitSettings(open_after=1, open_min_seconds=0.0), now)
    assert breaker.outage(now + 1, probe=False)  # one failure now opens it
