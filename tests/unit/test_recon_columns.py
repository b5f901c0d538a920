"""A reconciliation reads its jobs as rows of columns (arrays of up to 5,000 jobs each, so that
neither 100,000 row objects nor one 100,000-element row reach the daemon's event loop): the
outcome is the pure rule's on the same jobs, whatever the split into rows."""

from __future__ import annotations

from typing import Any

from irpd.db.database import Row
from irpd.ops.recon import _reconcile_columns
from statemachines.job import JobStatus
from statemachines.recon import ReconJob, ReconJobConfiguration, reconcile_batch

JOBS = [
    ReconJob(1, 11, JobStatus.FINISHED, False, "101"),
    ReconJob(2, 12, JobStatus.FAILED, False, "102"),
    ReconJob(3, 13, JobStatus.RUNNING, False, "103"),
    ReconJob(4, 14, JobStatus.ERROR, True, None),
    ReconJob(5, 15, JobStatus.QUEUED, False, None),
]
CONFIGURATIONS = [ReconJobConfiguration(10 + n, n == 4) for n in range(1, 7)]


def _rows(columns: dict[str, list[Any]], split: int) -> list[Row]:
    return [
        {name: values[:split] for name, values in columns.items()},
        {name: values[split:] for name, values in columns.items()},
    ]


def test_rows_of_columns_reconcile_as_the_jobs_do() -> None:
    jobs: dict[str, list[Any]] = {
        "ids": [j.id for j in JOBS],
        "configuration_ids": [j.job_configuration_id for j in JOBS],
        "statuses": [str(j.status) for j in JOBS],
        "skipped": [j.skipped for j in JOBS],
        "workflow_ids": [j.moodys_workflow_id for j in JOBS],
    }
    configurations: dict[str, list[Any]] = {
        "ids": [c.id for c in CONFIGURATIONS],
        "skipped": [c.skipped for c in CONFIGURATIONS],
    }
    expected = reconcile_batch(CONFIGURATIONS, JOBS)
    for split in (0, 2, 5):
        outcome = _reconcile_columns(_rows(configurations, split), _rows(jobs, split))
        assert outcome == expected
    assert expected.summary["failed_job_ids"] == [2]
