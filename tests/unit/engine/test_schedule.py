"""The poll schedule: due order, lazy deletion, and heap entries the garbage collector does
not track (tuples were: 100,000 reschedules filled the young generation between two
collections, one 25-60 ms loop stall each; docs/performance.md, *Steady-state loop lag*)."""

from __future__ import annotations

import gc

from irpd.engine.schedule import PollSchedule, TrackedJob


def job(job_id: int, due: float) -> TrackedJob:
    return TrackedJob(job_id, 1, "QUEUED", f"wf{job_id}", 0.0, 0, due)


def test_jobs_come_due_in_due_order_and_a_rescheduled_job_only_at_its_new_time() -> None:
    schedule = PollSchedule()
    for job_id, due in [(3, 5.0), (1, 2.5), (2, 1.0), (7, 2.5)]:
        schedule.put(job(job_id, due))
    schedule.reschedule(2, 4.0)  # its entry at 1.0 is stale now
    assert schedule.next_due() == 2.5
    assert [j.id for j in schedule.pop_due(4.0, 10)] == [1, 7, 2]
    assert schedule.pop_due(4.9, 10) == []
    schedule.remove(3)
    assert schedule.next_due() is None  # the popped jobs are in flight until rescheduled
    schedule.reschedule(1, 6.0)
    assert schedule.next_due() == 6.0
    assert len(schedule) == 3


def test_a_job_due_just_after_now_within_the_same_microsecond_is_not_popped() -> None:
    schedule = PollSchedule()
    schedule.put(job(1, 10.0000001))
    assert schedule.pop_due(10.0, 5) == []
    assert [j.id for j in schedule.pop_due(10.0000001, 5)] == [1]


def test_heap_entries_are_not_tracked_by_the_garbage_collector() -> None:
    schedule = PollSchedule()
    for job_id in range(1, 1001):
        schedule.put(job(job_id, float(job_id)))
    for job_id in range(1, 1001):
        schedule.reschedule(job_id, 2000.0 - job_id)
    schedule.compact()
    # the heap is the schedule's only per-reschedule allocation: nothing in it for a
    # young collection to scan
    assert not any(gc.is_tracked(entry) for entry in schedule._heap)
    assert [j.id for j in schedule.pop_due(1500.0, 3)] == [1000, 999, 998]
