"""Status facts from Moody's: applied by the tracker's rules (a log row per status change);
decisions follow the pure machine."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from irpd.errors import JobError
from irpd.ops import Operations

from .support import Daemon, Fingerprint, audit, job_ids

Snapshot = Callable[[], Awaitable[Fingerprint]]


@pytest.fixture
async def submitted_job(ops: Operations, batch: dict[str, Any], daemon: Daemon) -> int:
    """A job Moody's has (SUBMITTED)."""
    await ops.batches.submit_batch(batch["batch_id"])
    job_id = (await job_ids(ops, batch["batch_id"]))[0]
    await daemon.submit(job_id)
    return job_id


async def test_a_poll_is_logged_when_it_moves_the_job(ops: Operations, submitted_job: int) -> None:
    job_id = submitted_job
    polls = [
        ("QUEUED", "apply", "QUEUED"),
        ("QUEUED", "unchanged", "QUEUED"),
        ("running", "apply", "RUNNING"),  # tolerated spelling
        ("PENDING", "stale", "RUNNING"),  # backwards: not applied
        ("EXPLODED", "unknown", "RUNNING"),
        ("FINISHED", "apply", "FINISHED"),
        ("RUNNING", "refused", "FINISHED"),  # a report on a terminal job
    ]
    for count, (reported, decision, status) in enumerate(polls, start=1):
        result = await ops.tracking.apply_status_fact(
            job_id, reported, {"raw": reported}, progress=count
        )
        assert (result["decision"], result["status"]) == (decision, status), reported
        assert result["poll_count"] == count
        assert result["progress"] == count
    rows = await audit(ops, job_id)
    moody_rows = [row for row in rows if row["source"] == "moodys"]
    applied = [status for _, decision, status in polls if decision == "apply"]
    assert [row["job_status"] for row in moody_rows] == applied
    assert [row["previous_status"] for row in moody_rows] == ["SUBMITTED", *applied[:-1]]
    assert moody_rows[1]["tracking_data"] == {
        "reported_status": "running",
        "decision": "apply",
        "reason": "applied",
        "response": {"raw": "running"},
    }
    job = await ops.jobs.read_job(job_id)
    assert job["status"] == "FINISHED"
    assert job["completed_ts"] is not None
    assert job["last_tracked_ts"] is not None
    assert job["poll_count"] == len(polls)


async def test_a_poll_on_an_initiated_job_is_refused_and_not_logged(
    ops: Operations, batch: dict[str, Any]
) -> None:
    job_id = (await job_ids(ops, batch["batch_id"]))[0]
    result = await ops.tracking.apply_status_fact(job_id, "RUNNING", None, source="operator")
    assert (result["decision"], result["reason"], result["status"]) == (
        "refused",
        "not_submitted",
        "INITIATED",
    )
    assert (result["changed"], result["tracking_log_id"]) == (False, None)
    assert await audit(ops, job_id) == []


async def test_cancel_requested_then_moodys_confirms(ops: Operations, submitted_job: int) -> None:
    await ops.tracking.apply_status_fact(submitted_job, "RUNNING")
    await ops.jobs.cancel_job(submitted_job)
    ignored = await ops.tracking.apply_status_fact(submitted_job, "RUNNING")
    assert (ignored["decision"], ignored["reason"]) == ("unchanged", "cancel_pending")
    done = await ops.tracking.apply_status_fact(submitted_job, "CANCELLED")
    assert (done["status"], done["terminal"]) == ("CANCELLED", True)


async def test_a_failure_keeps_moodys_messages_as_the_last_error(
    ops: Operations, submitted_job: int
) -> None:
    messages = {"messages": ["EDM not found", "treaty invalid"]}
    failed = await ops.tracking.apply_status_fact(submitted_job, "FAILED", messages)
    assert (failed["status"], failed["changed"]) == ("FAILED", True)
    job = await ops.jobs.read_job(submitted_job)
    assert job["last_error"] == "EDM not found; treaty invalid"
    assert job["next_poll_at"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reported_status": ""}, "Invalid reported_status: must not be blank."),
        ({"reported_status": 3}, "Invalid reported_status: must be a string, got int."),
        ({"reported_status": "X" * 101}, "101 characters; at most 100"),
        ({"tracking_data": "raw"}, "Invalid tracking_data: must be a JSON object"),
        (
            {"source": "cron"},
            "Invalid source: cron. Must be one of ['moodys', 'engine', 'operator']",
        ),
        ({"progress": 101}, "Invalid progress: 101."),
        ({"job_id": -1}, "Invalid job_id: -1. Must be a positive integer."),
        ({"job_id": 9999}, "Job 9999 not found."),
    ],
)
async def test_refused_facts_write_nothing(
    ops: Operations,
    submitted_job: int,
    snapshot: Snapshot,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    arguments: dict[str, Any] = {"job_id": submitted_job, "reported_status": "RUNNING"}
    arguments.update(kwargs)
    before = await snapshot()
    with pytest.raises(JobError) as refused:
        await ops.tracking.apply_status_fact(**arguments)
    assert message in str(refused.value)
    assert await snapshot() == before


async def test_job_history_limits_the_tracking_log(ops: Operations, submitted_job: int) -> None:
    for reported in ("QUEUED", "PENDING", "RUNNING", "RUNNING", "FINISHED"):
        await ops.tracking.apply_status_fact(submitted_job, reported)
    history = await ops.tracking.job_history(submitted_job, tracking_rows=3)
    assert len(history["tracking_log"]) == 3
    ids = [row["id"] for row in history["tracking_log"]]
    assert ids == sorted(ids)  # the newest rows, oldest first
    assert history["job"]["id"] == submitted_job
    assert history["job_configuration"]["id"] == history["job"]["job_configuration_id"]
    assert (history["ancestors"], history["descendants"]) == ([], [])
