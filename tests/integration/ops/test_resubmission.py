"""Resubmission: chains v1→v2→v3, override lineage both ways, refusals."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from irpd.errors import JobError
from irpd.ops import Operations, listings

from .support import Daemon, Fingerprint, audit, job_ids, run_to, summary_of

Snapshot = Callable[[], Awaitable[Fingerprint]]


async def test_resubmission_chain_v1_v2_v3(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    batch_id = batch["batch_id"]
    await ops.batches.submit_batch(batch_id)
    v1 = (await job_ids(ops, batch_id))[0]
    original_config = (await ops.jobs.read_job(v1))["job_configuration_id"]
    await run_to(ops, daemon, v1, "RUNNING", "FAILED")

    v2 = (await ops.resubmissions.resubmit_job(v1))["job_id"]
    v2_job = await ops.jobs.read_job(v2)
    assert (v2_job["parent_job_id"], v2_job["job_configuration_id"]) == (v1, original_config)
    assert v2_job["status"] == "INITIATED"
    assert v2_job["submit_requested_ts"] is None  # resubmitted, not yet queued
    old = await ops.jobs.read_job(v1)
    assert (old["skipped"], old["skipped_reason_txt"]) == (True, f"Resubmitted as job {v2}")
    await ops.jobs.submit_job(v2)
    await run_to(ops, daemon, v2, "FAILED")

    parent_data = (await ops.jobs.get_job_config(v2))["job_configuration_data"]
    v3_result = await ops.resubmissions.resubmit_job(  # the spec's form: only the changed parameter
        v2, job_configuration_data={"threshold": 0.9}, override_reason="threshold too high"
    )
    corrected = {**parent_data, "threshold": 0.9}
    v3 = v3_result["job_id"]
    assert v3_result["overridden"] is True
    new_config = await ops.jobs.get_job_config(v3)
    assert new_config["overridden"] is True
    assert new_config["override_reason_txt"] == "threshold too high"
    assert new_config["parent_job_configuration_id"] == original_config
    assert new_config["job_configuration_data"] == corrected
    replaced = await ops.jobs.get_job_config(v2)
    assert replaced["override_job_configuration_id"] == new_config["id"]
    assert replaced["skipped"] is True
    assert str(replaced["skipped_reason_txt"]).startswith(
        f"Overridden by job configuration {new_config['id']}"
    )

    for job_id in (v1, v2, v3):
        history = await ops.tracking.job_history(job_id)
        assert [link["job_id"] for link in history["lineage"]] == [v1, v2, v3]
    middle = await ops.tracking.job_history(v2)
    assert (middle["ancestors"], middle["descendants"]) == ([v1], [v3])
    assert [link["depth"] for link in middle["lineage"]] == [-1, 0, 1]
    assert [link["overridden"] for link in middle["lineage"]] == [False, False, True]
    assert (await ops.tracking.job_history(v1))["descendants"] == [v2, v3]
    assert (await ops.tracking.job_history(v3))["override"] == {
        "parent_job_configuration_id": original_config,
        "reason": "threshold too high",
        "changes": [{"key": "threshold", "change": "added", "old": None, "new": 0.9}],
    }
    assert (await ops.tracking.job_history(v2))["override"] is None

    v2_log = await audit(ops, v2)
    assert v2_log[0]["tracking_data"] == {"action": "created_by_resubmission", "parent_job_id": v1}
    data = v2_log[-1]["tracking_data"]
    assert data is not None
    assert data["override_reason"] == "threshold too high"

    await ops.jobs.submit_job(v3)
    await run_to(ops, daemon, v3, "FINISHED")
    for other in (await job_ids(ops, batch_id))[1:3]:
        await run_to(ops, daemon, other, "FINISHED")
    outcome = await ops.recon.recon_batch(batch_id)
    assert outcome["status"] == "COMPLETED"
    assert summary_of(outcome)["total_configs"] == 3  # the overridden configuration is skipped


async def test_an_initiated_job_may_be_resubmitted_with_an_override(
    ops: Operations, batch: dict[str, Any]
) -> None:
    job_id = (await job_ids(ops, batch["batch_id"]))[0]
    await ops.jobs.submit_job(job_id)  # queued but not yet picked up by the dispatcher
    new = await ops.resubmissions.resubmit_job(
        job_id, {"job_key": "job-1", "fixed": True}, "typo in target"
    )
    old = await ops.jobs.read_job(job_id)
    assert old["skipped"] is True
    assert old["submit_requested_ts"] is None  # the dispatcher must not pick it up any more
    assert (await ops.jobs.read_job(new["job_id"]))["parent_job_id"] == job_id


async def test_resubmission_refusals(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    batch_id = batch["batch_id"]
    await ops.batches.submit_batch(batch_id)
    failed, running, _ = await job_ids(ops, batch_id)
    await run_to(ops, daemon, failed, "FAILED")
    await run_to(ops, daemon, running, "RUNNING")
    replacement = (await ops.resubmissions.resubmit_job(failed))["job_id"]
    before = await snapshot()
    refusals: list[tuple[Callable[[], Awaitable[Any]], str]] = [
        (
            lambda: ops.resubmissions.resubmit_job(running),
            f"Job {running} is RUNNING; cancel it first",
        ),
        (
            lambda: ops.resubmissions.resubmit_job(failed),
            f"Job {failed} is skipped; cannot resubmit it.",
        ),
        (
            lambda: ops.resubmissions.resubmit_job(replacement, {"a": 1}),
            "Invalid override_reason: a reason is required.",
        ),
        (
            lambda: ops.resubmissions.resubmit_job(replacement, {"a": 1}, "   "),
            "Invalid override_reason: must not be blank.",
        ),
        (
            lambda: ops.resubmissions.resubmit_job(replacement, None, "why"),
            "Invalid override_reason: only allowed with job_configuration_data.",
        ),
        (
            lambda: ops.resubmissions.resubmit_job(replacement, ["a"], "why"),  # type: ignore[arg-type]
            "must be a JSON object",
        ),
        (
            lambda: ops.resubmissions.resubmit_job(0),
            "Invalid job_id: 0. Must be a positive integer.",
        ),
        (lambda: ops.resubmissions.resubmit_job(424242), "Job 424242 not found."),
    ]
    for call, message in refusals:
        with pytest.raises(JobError) as refused:
            await call()
        assert message in str(refused.value)
    assert await snapshot() == before


async def test_jobs_of_a_completed_batch_are_not_resubmitted(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    await ops.batches.submit_batch(batch["batch_id"])
    ids = await job_ids(ops, batch["batch_id"])
    for job_id in ids:
        await run_to(ops, daemon, job_id, "FINISHED")
    assert (await ops.recon.recon_batch(batch["batch_id"]))["status"] == "COMPLETED"
    before = await snapshot()
    with pytest.raises(
        JobError, match=re.escape(f"Batch {batch['batch_id']} of job {ids[0]} is COMPLETED")
    ):
        await ops.resubmissions.resubmit_job(ids[0])
    with pytest.raises(JobError, match="is COMPLETED; cannot reactivate"):
        await ops.jobs.submit_job(ids[0], force=True)
    assert await snapshot() == before


async def test_a_shared_configuration_overridden_by_one_job_refuses_the_other(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    batch_id = batch["batch_id"]
    first = (await job_ids(ops, batch_id))[0]
    config_id = (await ops.jobs.read_job(first))["job_configuration_id"]
    sibling = (await ops.jobs.create_job(batch_id, batch["configuration_id"], config_id))["job_id"]
    override = await ops.resubmissions.resubmit_job(
        first, {"job_key": "job-1", "v": 2}, "new parameters"
    )
    before = await snapshot()
    message = f"Job configuration {config_id} of job {sibling} is skipped (overridden by job "
    with pytest.raises(JobError) as refused:
        await ops.resubmissions.resubmit_job(sibling)
    assert str(refused.value).startswith(message)
    with pytest.raises(JobError, match=re.escape(f"Job configuration {config_id} is skipped")):
        await ops.jobs.create_job(batch_id, batch["configuration_id"], config_id)
    assert await snapshot() == before
    assert (await ops.jobs.get_job_config(override["job_id"]))[
        "parent_job_configuration_id"
    ] == config_id


async def test_a_replaced_job_is_shown_as_replaced_not_as_a_failure(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    """The job listings name the resubmission that replaced a job, and the daemon's jobs by
    status (``irpctl status``) count it under SKIPPED, not FAILED (spec: a skipped job is out of
    the batch's reconciliation)."""
    batch_id = batch["batch_id"]
    await ops.batches.submit_batch(batch_id)
    v1 = (await job_ids(ops, batch_id))[0]
    await run_to(ops, daemon, v1, "RUNNING", "FAILED")
    v2 = (await ops.resubmissions.resubmit_job(v1))["job_id"]
    skipped_by_operator = (await job_ids(ops, batch_id))[1]
    await ops.jobs.skip_job(skipped_by_operator, "portfolio retired")

    page = await listings.batch_jobs(ops.db, batch_id)
    shown = {row["id"]: (row["skipped"], row["replaced_by_job_id"]) for row in page.rows}
    assert shown[v1] == (True, v2)
    assert shown[v2] == (False, None)
    assert shown[skipped_by_operator] == (True, None)
    counts = {r["status"]: r["n"] for r in await ops.db.fetch("engine_job_counts")}
    assert counts["SKIPPED"] == 2
    assert "FAILED" not in counts
