"""A first sweep polls every job once before any job a second time, whether the tracker keeps
up with the recovery spread or falls behind it (issue 17: 306-895 ids were polled twice)."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any, cast

import pytest

from irpd.engine.schedule import TrackedJob
from irpd.engine.tracker import LOAD_TIE_SPREAD, Tracker, TrackerSettings

from .support import tracker_settings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Polling(Tracker):
    """Polls by rescheduling each job ``min_interval`` after its poll, like an unchanged
    answer does, and records the order of polls."""

    def __init__(self, settings: TrackerSettings, clock: Clock) -> None:
        nothing = cast("Any", None)
        super().__init__(
            nothing, nothing, nothing, nothing, nothing, settings,
            on_settled=lambda _moved: None, clock=clock,
        )  # fmt: skip
        self.polls: list[tuple[float, int]] = []

    async def _poll_chunk(
        self, chunk: list[TrackedJob], answered: Callable[[], None] = lambda: None
    ) -> None:
        for job in chunk:
            self.polls.append((self._clock(), job.id))
            self.schedule.reschedule(job.id, self._clock() + self.settings.policy.min_interval)


@pytest.mark.parametrize(
    ("per_tick", "gap"),
    [(5000, 1.0), (1500, 1.0), (300, 0.0)],  # keeps up (a lookahead to spare), falls behind
)
async def test_no_job_is_polled_twice_before_all_were_polled(per_tick: int, gap: float) -> None:
    jobs = 20_000
    clock = Clock()
    settings = tracker_settings(recovery_rate=4000.0, ids_per_request=100)
    tracker = Polling(settings, clock)
    window = tracker._load_window(jobs)
    assert window == settings.policy.min_interval - 2 * settings.lookahead
    rng = random.Random(7)
    for i in range(jobs):  # as _load spreads the first polls
        tracker.schedule.put(TrackedJob(i, 1, "QUEUED", str(i), 0.0, 0, window * rng.random()))
    while len(tracker.polls) < 2 * jobs:
        await tracker._sweep(clock.now + settings.lookahead, per_tick)
        clock.now += 0.1
    first: dict[int, float] = {}
    second: dict[int, float] = {}
    for at, job in tracker.polls:
        (second if job in first else first).setdefault(job, at)
    assert len(first) == jobs
    # every first poll comes before any second poll, by a lookahead when the tracker keeps up
    assert min(second.values()) >= max(first.values()) + gap


def test_a_load_without_spread_still_spreads_ties_over_the_table() -> None:
    """With ``recovery_spread`` 0 every loaded job is due at once; were they due in the same
    microsecond, chunks would be runs of consecutive ids (neighbours on PostgreSQL's heap
    pages: no room for HOT updates when one statement moves them all)."""
    jobs = 10_000
    settings = tracker_settings(recovery_spread=0.0)
    tracker = Polling(settings, Clock())
    window = tracker._load_window(jobs)
    assert window == LOAD_TIE_SPREAD
    rng = random.Random(7)
    for i in range(jobs):  # as _load spreads the first polls
        tracker.schedule.put(TrackedJob(i, 1, "QUEUED", str(i), 0.0, 0, window * rng.random()))
    chunk = [job.id for job in tracker.schedule.pop_due(window, 500)]
    assert max(chunk) - min(chunk) > 0.9 * jobs
    assert sum(1 for a, b in itertools.pairwise(chunk) if b == a + 1) < 10
