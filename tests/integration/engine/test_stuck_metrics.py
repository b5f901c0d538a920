"""Jobs past their expected run time (irpd.monitoring.stuck) on a real database: per batch type
from the tracker's memory and primary-key reads of irp_batch; a batch that is not found is left
out; the oldest age is measured from its job's last status change."""

from __future__ import annotations

import pytest

from irpd.engine.schedule import PollSchedule, TrackedJob
from irpd.monitoring import stuck
from irpd.monitoring.stuck import RunTimeExpectations, StuckJobs

from .conftest import Rig


def _job(job_id: int, batch_id: int, since: float) -> TrackedJob:
    return TrackedJob(job_id, batch_id, "RUNNING", f"wf{job_id}", since, 0, since + 5.0)


async def test_jobs_past_their_batch_types_expected_run_time(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stuck, "SLICE", 2)  # the walk gives the loop a turn every 2 jobs
    batch_id = await rig.multi_job_batch(1)
    now = 10_000.0
    schedule = PollSchedule()
    for job_id, age in ((1, 10.0), (2, 60.0), (3, 500.0), (4, 49.0)):
        schedule.put(_job(job_id, batch_id, now - age))
    schedule.put(_job(5, 987_654_321, now - 9_999.0))  # no such batch: left out
    expectations = RunTimeExpectations(100.0, {"multi_job": 50.0})
    counter = StuckJobs(schedule, rig.db, expectations, clock=lambda: now)

    await counter.refresh()
    families = {f.name: f.samples for f in counter.families()}
    assert [(s.labels, s.value) for s in families["irpd_jobs_over_expected_run_time"]] == [
        ({"batch_type": "multi_job"}, 2.0)
    ]
    (oldest,) = families["irpd_oldest_in_flight_job_age_seconds"]
    assert oldest.value == 500.0
    (expected,) = families["irpd_job_expected_run_time_seconds"]
    assert expected.value == 50.0

    schedule.remove(3)
    schedule.remove(2)
    now += 20.0  # job 4 is now 69 s in its status: past 50 s
    await counter.refresh()
    assert counter.by_type["multi_job"].over == 1
    assert counter.families()[1].samples[0].value == 69.0
    for job_id in (1, 4):
        schedule.remove(job_id)
    await counter.refresh()
    assert [f.samples for f in counter.families()] == [[], [], []]
