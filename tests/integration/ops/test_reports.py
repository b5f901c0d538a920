"""Reporting views: every job status has a next action; batch reports count and advise."""

from __future__ import annotations

import re
from typing import Any

import pytest

from irpd.errors import BatchError, JobError
from irpd.ops import Operations
from statemachines.job import JobStatus

from .support import Daemon, force_status, job_ids, register_jobs, run_to

JOB_NEXT_ACTION = {
    JobStatus.INITIATED: "WAIT",  # queued; unqueued INITIATED is SUBMIT (below)
    JobStatus.SUBMITTING: "WAIT",
    JobStatus.SUBMITTED: "TRACK",
    JobStatus.QUEUED: "TRACK",
    JobStatus.PENDING: "TRACK",
    JobStatus.RUNNING: "TRACK",
    JobStatus.CANCEL_REQUESTED: "TRACK",
    JobStatus.CANCELLING: "TRACK",
    JobStatus.FINISHED: "NONE",
    JobStatus.FORCED_OK: "NONE",
    JobStatus.FAILED: "RESUBMIT_OR_SKIP",
    JobStatus.ERROR: "RESUBMIT_OR_SKIP",
    JobStatus.CANCELLED: "RESUBMIT_OR_SKIP",
}


async def test_every_job_status_has_a_next_action(
    ops: Operations, cycle: dict[str, Any], db_dsn: str
) -> None:
    assert set(JOB_NEXT_ACTION) == set(JobStatus)
    config_id = await register_jobs(ops, cycle["cycle_name"], len(JobStatus) + 2)
    batch_id = (await ops.batches.create_batch("multi_job", config_id))["batch_id"]
    ids = await job_ids(ops, batch_id)
    for job_id, status in zip(ids, JobStatus, strict=False):
        await force_status(db_dsn, job_id, status)
    unqueued, skipped = ids[-2:]
    await ops.jobs.skip_job(skipped, "not needed")
    reports = {row["job_id"]: row for row in await ops.reports.job_reports(batch_id)}
    for job_id, status in zip(ids, JobStatus, strict=False):
        assert (reports[job_id]["status"], reports[job_id]["next_action"]) == (
            status,
            JOB_NEXT_ACTION[status],
        )
        assert reports[job_id]["terminal"] == (
            status in {"FINISHED", "FAILED", "CANCELLED", "FORCED_OK", "ERROR"}
        )
    assert reports[unqueued]["next_action"] == "SUBMIT"
    assert reports[skipped]["next_action"] == "NONE"
    single = await ops.reports.job_report(ids[0])
    assert single["cycle_name"] == "2026-Q1"
    assert isinstance(single["seconds_in_status"], int)
    to_resubmit = await ops.reports.job_reports(batch_id, next_action="RESUBMIT_OR_SKIP")
    assert len(to_resubmit) == 3
    assert len(await ops.reports.job_reports(batch_id, status="RUNNING")) == 1


async def test_batch_report_follows_the_batch(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    batch_id = batch["batch_id"]
    report = await ops.reports.batch_report(batch_id)
    assert (report["status"], report["next_action"], report["progress_pct"]) == (
        "INITIATED",
        "SUBMIT",
        0,
    )
    await ops.batches.submit_batch(batch_id)
    report = await ops.reports.batch_report(batch_id)
    assert (report["next_action"], report["queued_jobs"]) == ("TRACK", 3)
    first, second, third = await job_ids(ops, batch_id)
    await run_to(ops, daemon, first, "FINISHED")
    await run_to(ops, daemon, second, "FAILED")
    await run_to(ops, daemon, third, "RUNNING")
    report = await ops.reports.batch_report(batch_id)
    assert (report["finished_jobs"], report["failed_jobs"], report["in_flight_jobs"]) == (1, 1, 1)
    assert report["progress_pct"] == 33
    assert report["status_counts"] == {"FINISHED": 1, "FAILED": 1, "RUNNING": 1}
    # a failure is reported at once, while the batch stays ACTIVE until the others settle
    assert (report["status"], report["next_action"]) == ("ACTIVE", "REVIEW_FAILURES")
    await ops.tracking.apply_status_fact(third, "FINISHED")
    assert (await ops.reports.batch_report(batch_id))["next_action"] == "REVIEW_FAILURES"
    assert (await ops.recon.recon_batch(batch_id))["status"] == "FAILED"
    assert (await ops.reports.batch_report(batch_id))["next_action"] == "REVIEW_FAILURES"
    replacement = await ops.resubmissions.resubmit_job(second)
    report = await ops.reports.batch_report(batch_id)
    assert (report["next_action"], report["skipped_jobs"], report["unsubmitted_jobs"]) == (
        "SUBMIT",
        1,
        1,
    )
    await ops.jobs.submit_job(replacement["job_id"])
    await run_to(ops, daemon, replacement["job_id"], "FINISHED")
    await ops.recon.recon_batch(batch_id)
    report = await ops.reports.batch_report(batch_id)
    assert (report["status"], report["next_action"], report["progress_pct"]) == (
        "COMPLETED",
        "PROCEED",
        100,
    )
    listed = await ops.reports.batch_reports(status="COMPLETED")
    assert [row["batch_id"] for row in listed] == [batch_id]
    assert await ops.reports.batch_reports(next_action="SUBMIT") == []
    assert len(await ops.reports.batch_reports(cycle_id=report["cycle_id"])) == 1


async def test_report_refusals(ops: Operations) -> None:
    with pytest.raises(BatchError, match=re.escape("Batch 5 not found.")):
        await ops.reports.batch_report(5)
    with pytest.raises(BatchError, match=re.escape("Invalid next_action: GO. Must be one of")):
        await ops.reports.batch_reports(next_action="GO")
    with pytest.raises(JobError, match=re.escape("Invalid job_id: -2.")):
        await ops.reports.job_report(-2)
    with pytest.raises(JobError, match=re.escape("Job 5 not found.")):
        await ops.reports.job_report(5)
    with pytest.raises(BatchError, match=re.escape("Invalid status: NOPE.")):
        await ops.reports.job_reports(1, status="NOPE")
