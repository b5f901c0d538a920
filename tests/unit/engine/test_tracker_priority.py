"""The tracker's side of operator priority: chunk size and poll budget while operators are
active, no debt from unhurried times. The tracker's collaborators are not needed for this
(its database and Moody's paths are covered by tests/integration/engine)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from irpd.engine.priority import OperatorActivity
from irpd.engine.schedule import TrackedJob
from irpd.engine.tracker import Tracker, TrackerSettings

from .support import tracker_settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingTracker(Tracker):
    """Takes chunks off the schedule like the real one but only records them."""

    def __init__(self, settings: TrackerSettings, clock: Clock) -> None:
        nothing = cast("Any", None)
        super().__init__(
            nothing, nothing, nothing, nothing, nothing, settings,
            on_settled=lambda _moved: None, clock=clock,
        )  # fmt: skip
        self.chunks: list[int] = []

    async def _poll_chunk(
        self, chunk: list[TrackedJob], answered: Callable[[], None] = lambda: None
    ) -> None:
        self.chunks.append(len(chunk))


def _tracker(jobs: int, clock: Clock) -> tuple[RecordingTracker, OperatorActivity]:
    settings = tracker_settings(max_polls_per_second=5000.0, ids_per_request=100, chunk=500)
    tracker = RecordingTracker(settings, clock)
    operators = OperatorActivity(clock=clock)
    tracker.budget.follow(operators)
    for i in range(jobs):
        tracker.schedule.put(TrackedJob(i, 1, "QUEUED", str(i), clock.now, 0, clock.now))
    return tracker, operators


async def test_without_operators_a_sweep_takes_big_chunks_of_everything_due() -> None:
    clock = Clock()
    tracker, _ = _tracker(2000, clock)
    assert tracker.budget.allowed() == tracker.settings.max_due
    assert await tracker._sweep(clock.now + 1, tracker.budget.allowed()) == 2000
    assert tracker.chunks == [500, 500, 500, 500]


async def test_an_operator_arriving_mid_sweep_slows_it_to_the_budget() -> None:
    clock = Clock()
    tracker, operators = _tracker(5000, clock)
    allowed = tracker.budget.allowed()  # computed before the operator arrived
    operators.begin()
    operators.end()
    polled = await tracker._sweep(clock.now + 1, allowed)
    # a tenth of a second's budget (500 ids), one request's worth per chunk
    assert polled == 500
    assert tracker.chunks == [100] * 5
    assert tracker.budget.allowed() == 0
    clock.now += 0.05
    assert tracker.budget.allowed() == 200


async def test_operators_find_a_full_bucket_after_unhurried_polling() -> None:
    clock = Clock()
    tracker, operators = _tracker(20000, clock)
    assert await tracker._sweep(clock.now + 1, tracker.budget.allowed()) == 20000
    operators.begin()
    operators.end()
    assert tracker.budget.allowed() == 500


async def test_chunks_are_whole_status_requests() -> None:
    clock = Clock()
    settings = tracker_settings(ids_per_request=100, chunk=250)
    tracker = RecordingTracker(settings, clock)
    for i in range(1000):
        tracker.schedule.put(TrackedJob(i, 1, "QUEUED", str(i), clock.now, 0, clock.now))
    assert await tracker._sweep(clock.now + 1, tracker.budget.allowed()) == 1000
    assert tracker.chunks == [200] * 5
