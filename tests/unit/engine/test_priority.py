"""Operators before background work: the activity count, the bounded wait, the span."""

from __future__ import annotations

import asyncio

import pytest

from irpd.engine.priority import OperatorActivity, OperatorSpan


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_activity_counts_commands_and_remembers_the_last_one() -> None:
    clock = Clock()
    activity = OperatorActivity(recent_window=2.0, clock=clock)
    assert not activity.recent()
    activity.begin()
    activity.begin()
    assert activity.running == 2
    activity.end()
    assert activity.running == 1
    activity.end()
    activity.end()  # never below zero
    assert activity.running == 0
    assert activity.recent()
    clock.now += 1.9
    assert activity.recent()
    clock.now += 0.2
    assert not activity.recent()


async def test_yielding_returns_at_once_when_nobody_waits() -> None:
    activity = OperatorActivity()
    await asyncio.wait_for(activity.yield_to_operators(60.0), 1.0)


async def test_yielding_waits_for_the_running_command() -> None:
    activity = OperatorActivity()
    activity.begin()
    waiter = asyncio.create_task(activity.yield_to_operators(60.0))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    activity.end()
    await asyncio.wait_for(waiter, 1.0)


async def test_a_long_command_delays_background_work_only_up_to_the_bound() -> None:
    activity = OperatorActivity()
    activity.begin()
    await asyncio.wait_for(activity.yield_to_operators(0.05), 5.0)
    assert activity.running == 1


@pytest.mark.parametrize("stops", [1, 3])
def test_a_span_counts_once_however_often_it_starts_or_stops(stops: int) -> None:
    activity = OperatorActivity()
    span = OperatorSpan(activity)
    span.start()
    span.start()
    assert activity.running == 1
    for _ in range(stops):
        span.stop()
    assert activity.running == 0
    span.start()
    assert activity.running == 1


def test_an_idle_admitted_connection_stops_counting_but_a_requesting_one_does_not() -> None:
    activity = OperatorActivity()
    idle, busy = OperatorSpan(activity), OperatorSpan(activity)
    idle.start()
    busy.start()
    busy.request()
    assert activity.running == 2
    idle.stop_if_idle()
    busy.stop_if_idle()
    assert activity.running == 1
    idle.request()  # a late first request counts again
    assert activity.running == 2


def test_a_polled_read_leaves_no_recent_window_unless_another_command_arrived() -> None:
    clock = Clock()
    activity = OperatorActivity(recent_window=2.0, clock=clock)
    polled = OperatorSpan(activity)
    polled.start()
    assert activity.recent()
    assert activity.running == 1  # yielded to while it is answered
    clock.now += 0.01
    polled.stop(polled=True)
    assert not activity.recent()  # a `batch wait` poll every second throttles nothing

    other, read = OperatorSpan(activity), OperatorSpan(activity)
    other.start()
    other.stop()  # an operator's command: its window stays
    read.start()
    read.stop(polled=True)
    assert activity.recent()  # ... even after a polled read arrived within it
    clock.now += 2.1
    assert not activity.recent()
