"""Concurrent transitions on the same rows: exactly one wins, the others are refused
clearly, and exactly one audit row exists per applied change."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from typing import Any

from irpd.errors import BatchError, DomainError, JobError
from irpd.ops import Operations

from .support import Daemon, audit, job_ids, run_to


async def _race(
    *calls: Awaitable[Mapping[str, Any]],
) -> tuple[list[Mapping[str, Any]], list[BaseException]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    won: list[Mapping[str, Any]] = [r for r in results if isinstance(r, dict)]
    lost = [r for r in results if isinstance(r, BaseException)]
    return won, lost


async def _running_job(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, *reports: str
) -> int:
    await ops.batches.submit_batch(batch["batch_id"])
    job_id = (await job_ids(ops, batch["batch_id"]))[0]
    await run_to(ops, daemon, job_id, *reports)
    return job_id


async def test_five_concurrent_cancels_one_wins(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    job_id = await _running_job(ops, batch, daemon, "RUNNING")
    won, lost = await _race(*(ops.jobs.cancel_job(job_id, f"cancel #{n}") for n in range(5)))
    assert len(won) == 1
    assert won[0]["status"] == "CANCEL_REQUESTED"
    assert len(lost) == 4
    for error in lost:
        assert isinstance(error, JobError)
        assert str(error).startswith(f"Job {job_id} is CANCEL_REQUESTED; cannot request_cancel")
    cancel_rows = [r for r in await audit(ops, job_id) if r["source"] == "operator"]
    assert len(cancel_rows) == 1
    assert cancel_rows[0]["job_status"] == "CANCEL_REQUESTED"


async def test_concurrent_force_ok_one_wins(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    job_id = await _running_job(ops, batch, daemon, "FAILED")
    won, lost = await _race(
        ops.jobs.force_ok_job(job_id, "first"), ops.jobs.force_ok_job(job_id, "second")
    )
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], JobError)
    assert "is FORCED_OK; cannot force_ok" in str(lost[0])
    job = await ops.jobs.read_job(job_id)
    winner_reason = [r for r in await audit(ops, job_id) if r["source"] == "operator"]
    assert len(winner_reason) == 1
    won_data = winner_reason[0]["tracking_data"]
    assert won_data is not None
    assert job["forced_ok_reason_txt"] == won_data["reason"]


async def test_cancel_races_a_finishing_report(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    job_id = await _running_job(ops, batch, daemon, "RUNNING")
    results = await asyncio.gather(
        ops.jobs.cancel_job(job_id),
        ops.tracking.apply_status_fact(job_id, "FINISHED"),
        return_exceptions=True,
    )
    cancel, fact = results
    assert isinstance(fact, dict)
    assert fact["status"] == "FINISHED"
    rows = await audit(ops, job_id)
    moves = [(r["previous_status"], r["job_status"]) for r in rows[-2:]]
    if isinstance(cancel, dict):  # the cancel came first; the report then settled the job
        assert moves == [("RUNNING", "CANCEL_REQUESTED"), ("CANCEL_REQUESTED", "FINISHED")]
    else:  # the report came first; the cancel was refused and wrote nothing
        assert isinstance(cancel, JobError)
        assert f"Job {job_id} is FINISHED; cannot request_cancel" in str(cancel)
        assert moves[-1] == ("RUNNING", "FINISHED")
        assert [r for r in rows if r["source"] == "operator"] == []
    assert (await ops.jobs.read_job(job_id))["status"] == "FINISHED"


async def test_concurrent_resubmissions_create_one_job(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    job_id = await _running_job(ops, batch, daemon, "FAILED")
    won, lost = await _race(*(ops.resubmissions.resubmit_job(job_id) for _ in range(3)))
    assert len(won) == 1
    assert len(lost) == 2
    assert all(isinstance(e, JobError) and "is skipped" in str(e) for e in lost)
    jobs = await ops.batches.get_batch_jobs(batch["batch_id"])
    assert [j["id"] for j in jobs if j["parent_job_id"] == job_id] == [won[0]["job_id"]]


async def test_concurrent_submissions_of_a_batch(ops: Operations, batch: dict[str, Any]) -> None:
    won, lost = await _race(*(ops.batches.submit_batch(batch["batch_id"]) for _ in range(3)))
    assert len(won) == 1
    assert won[0]["submitted_jobs"] == 3
    assert all(
        isinstance(e, BatchError) and "is ACTIVE and has no INITIATED" in str(e) for e in lost
    )


async def test_concurrent_polls_are_all_counted_and_applied_once(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    job_id = await _running_job(ops, batch, daemon, "QUEUED")
    results = await asyncio.gather(
        *(ops.tracking.apply_status_fact(job_id, "RUNNING") for _ in range(8))
    )
    assert sorted(r["decision"] for r in results) == ["apply"] + ["unchanged"] * 7
    assert sorted(r["poll_count"] for r in results) == list(range(2, 10))
    moves = [r for r in await audit(ops, job_id) if r["source"] == "moodys"]
    assert [(m["previous_status"], m["job_status"]) for m in moves] == [
        ("SUBMITTED", "QUEUED"),
        ("QUEUED", "RUNNING"),
    ]


async def test_skip_races_resubmit(ops: Operations, batch: dict[str, Any], daemon: Daemon) -> None:
    job_id = await _running_job(ops, batch, daemon, "FAILED")
    won, lost = await _race(
        ops.jobs.skip_job(job_id, "give up"), ops.resubmissions.resubmit_job(job_id)
    )
    assert len(won) == 1
    assert len(lost) == 1
    assert isinstance(lost[0], DomainError)
    assert "skipped" in str(lost[0])
