"""Jobs: create (new or shared job configuration), skip, cancel, force-ok, submit."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from irpd.errors import JobError
from irpd.ops import Operations

from .support import Daemon, Fingerprint, audit, job_ids, run_to

Snapshot = Callable[[], Awaitable[Fingerprint]]
EXACTLY_ONE = "Must provide exactly one of: job_configuration_id or job_configuration_data"


async def test_create_job_with_new_then_shared_configuration(
    ops: Operations, batch: dict[str, Any]
) -> None:
    batch_id, config_id = batch["batch_id"], batch["configuration_id"]
    first = await ops.jobs.create_job(
        batch_id, config_id, job_configuration_data={"portfolio": "ABC", "threshold": 0.95}
    )
    assert first["status"] == "INITIATED"
    job = await ops.jobs.read_job(first["job_id"])
    shared = await ops.jobs.create_job(
        batch_id, config_id, job_configuration_id=job["job_configuration_id"]
    )
    assert shared["job_configuration_id"] == job["job_configuration_id"]
    config = await ops.jobs.get_job_config(shared["job_id"])
    assert config["job_configuration_data"] == {"portfolio": "ABC", "threshold": 0.95}
    assert config["overridden"] is False
    assert (await ops.batches.read_batch(batch_id))["jobs"] == 5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, EXACTLY_ONE),
        ({"job_configuration_id": 1, "job_configuration_data": {"a": 1}}, EXACTLY_ONE),
        ({"job_configuration_data": [1]}, "Invalid job_configuration_data: must be a JSON object"),
        ({"job_configuration_data": {"x": float("nan")}}, "nan is not a JSON number"),
        ({"job_configuration_id": 0}, "Invalid job_configuration_id: 0."),
        ({"job_configuration_id": 999}, "Job configuration 999 not found."),
    ],
)
async def test_create_job_refusals(
    ops: Operations,
    batch: dict[str, Any],
    snapshot: Snapshot,
    kwargs: dict[str, Any],
    message: str,
) -> None:
    before = await snapshot()
    with pytest.raises(JobError) as refused:
        await ops.jobs.create_job(batch["batch_id"], batch["configuration_id"], **kwargs)
    assert message in str(refused.value)
    assert await snapshot() == before


async def test_create_job_checks_batch_and_configuration_belong_together(
    ops: Operations, batch: dict[str, Any], snapshot: Snapshot
) -> None:
    other = await ops.batches.create_batch(
        "multi_job", batch["configuration_id"], allow_duplicate="a second batch for this test"
    )
    foreign = (await ops.batches.get_batch_job_configurations(other["batch_id"]))[0]["id"]
    before = await snapshot()
    with pytest.raises(JobError, match=re.escape(f"belongs to batch {other['batch_id']}, not")):
        await ops.jobs.create_job(batch["batch_id"], batch["configuration_id"], foreign)
    with pytest.raises(
        JobError, match=re.escape(f"belongs to configuration {batch['configuration_id']}")
    ):
        await ops.jobs.create_job(batch["batch_id"], 999, job_configuration_data={})
    with pytest.raises(JobError, match="Batch 999 not found"):
        await ops.jobs.create_job(999, batch["configuration_id"], job_configuration_data={})
    with pytest.raises(
        JobError, match=re.escape("Invalid batch_id: -1. Must be a positive integer.")
    ):
        await ops.jobs.create_job(-1, batch["configuration_id"], job_configuration_data={})
    assert await snapshot() == before


async def test_cancel_an_initiated_job_is_immediate(ops: Operations, batch: dict[str, Any]) -> None:
    job_id = (await job_ids(ops, batch["batch_id"]))[0]
    cancelled = await ops.jobs.cancel_job(job_id, "wrong portfolio")
    assert (cancelled["previous_status"], cancelled["status"]) == ("INITIATED", "CANCELLED")
    job = await ops.jobs.read_job(job_id)
    assert job["status"] == "CANCELLED"
    assert job["completed_ts"] is not None
    rows = await audit(ops, job_id)
    assert [(r["previous_status"], r["job_status"], r["source"]) for r in rows] == [
        ("INITIATED", "CANCELLED", "operator")
    ]
    assert rows[0]["tracking_data"] == {"action": "cancel", "reason": "wrong portfolio"}


async def test_cancel_in_flight_records_the_request_for_the_daemon(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    await ops.batches.submit_batch(batch["batch_id"])
    running, finished, submitting = await job_ids(ops, batch["batch_id"])
    await run_to(ops, daemon, running, "RUNNING")
    await run_to(ops, daemon, finished, "FINISHED")
    await daemon.begin_submit(submitting)
    assert (await ops.jobs.cancel_job(running))["status"] == "CANCEL_REQUESTED"
    assert (await ops.jobs.cancel_job(submitting))["status"] == "CANCEL_REQUESTED"
    before = await snapshot()
    with pytest.raises(
        JobError, match=re.escape(f"Job {running} is CANCEL_REQUESTED; cannot request_cancel")
    ):
        await ops.jobs.cancel_job(running)
    with pytest.raises(
        JobError, match=re.escape(f"Job {finished} is FINISHED; cannot request_cancel")
    ):
        await ops.jobs.cancel_job(finished)
    assert await snapshot() == before


async def test_force_ok_needs_a_reason_and_a_settled_job(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    await ops.batches.submit_batch(batch["batch_id"])
    failed, running, _ = await job_ids(ops, batch["batch_id"])
    await run_to(ops, daemon, failed, "FAILED")
    await run_to(ops, daemon, running, "RUNNING")
    before = await snapshot()
    for reason, message in [(None, "a reason is required"), ("  ", "must not be blank")]:
        with pytest.raises(JobError, match=message):
            await ops.jobs.force_ok_job(failed, reason)  # type: ignore[arg-type]
    with pytest.raises(JobError, match=re.escape(f"Job {running} is RUNNING; cannot force_ok")):
        await ops.jobs.force_ok_job(running, "looks done")
    assert await snapshot() == before
    forced = await ops.jobs.force_ok_job(failed, "results verified by hand")
    assert forced["status"] == "FORCED_OK"
    job = await ops.jobs.read_job(failed)
    assert job["forced_ok_reason_txt"] == "results verified by hand"
    assert (await audit(ops, failed))[-1]["source"] == "operator"


async def test_skip_job_skips_its_configuration_when_nothing_else_uses_it(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    batch_id = batch["batch_id"]
    first, second, _ = await job_ids(ops, batch_id)
    shared = await ops.jobs.create_job(
        batch_id,
        batch["configuration_id"],
        (await ops.jobs.read_job(second))["job_configuration_id"],
    )
    skipped = await ops.jobs.skip_job(first, "portfolio retired")
    assert skipped["job_configuration_skipped"] is True
    assert (await ops.jobs.get_job_config(first))["skipped_reason_txt"] == "portfolio retired"
    assert (await ops.jobs.skip_job(second, "duplicate"))["job_configuration_skipped"] is False
    assert (await ops.jobs.get_job_config(shared["job_id"]))["skipped"] is False
    job = await ops.jobs.read_job(first)
    assert (job["skipped"], job["skipped_reason_txt"], job["status"]) == (
        True,
        "portfolio retired",
        "INITIATED",
    )
    skip_data = (await audit(ops, first))[-1]["tracking_data"]
    assert skip_data is not None
    assert skip_data["action"] == "skip"
    await ops.batches.submit_batch(batch_id)
    running = shared["job_id"]
    await run_to(ops, daemon, running, "RUNNING")
    before = await snapshot()
    with pytest.raises(JobError, match=re.escape(f"Job {first} is already skipped.")):
        await ops.jobs.skip_job(first, "again")
    with pytest.raises(JobError, match=re.escape(f"Job {running} is RUNNING; cancel it first")):
        await ops.jobs.skip_job(running, "too slow")
    with pytest.raises(JobError, match=re.escape("Invalid reason: a reason is required.")):
        await ops.jobs.skip_job(running, None)  # type: ignore[arg-type]
    assert await snapshot() == before


async def test_submit_job_queues_one_job_and_activates_the_batch(
    ops: Operations, batch: dict[str, Any], configuration_id: int
) -> None:
    first, second, _ = await job_ids(ops, batch["batch_id"])
    queued = await ops.jobs.submit_job(first)
    assert queued["job_id"] == first
    assert queued["submit_requested_ts"] is not None
    assert queued["batch_status"] == "ACTIVE"
    assert queued["resubmitted_from_job_id"] is None
    assert (await ops.configurations.read_configuration(configuration_id))["status"] == "ACTIVE"
    again = await ops.jobs.submit_job(first)  # idempotent: the first request time is kept
    assert again["submit_requested_ts"] == queued["submit_requested_ts"]
    rest = await ops.batches.submit_batch(batch["batch_id"])  # ACTIVE batch: queues the others
    assert [j["job_id"] for j in rest["jobs"]] == [second, rest["jobs"][-1]["job_id"]]


async def test_submit_job_force_resubmits_a_submitted_job(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    await ops.batches.submit_batch(batch["batch_id"])
    failed, running, _ = await job_ids(ops, batch["batch_id"])
    await run_to(ops, daemon, failed, "FAILED")
    await run_to(ops, daemon, running, "RUNNING")
    before = await snapshot()
    with pytest.raises(
        JobError, match=re.escape(f"Job {failed} is FAILED; it was already submitted")
    ):
        await ops.jobs.submit_job(failed)
    with pytest.raises(JobError, match=re.escape(f"Job {running} is RUNNING; cancel it first")):
        await ops.jobs.submit_job(running, force=True)
    with pytest.raises(JobError, match=re.escape("Invalid force: 1. Must be true or false.")):
        await ops.jobs.submit_job(failed, force=1)  # type: ignore[arg-type]
    assert await snapshot() == before
    forced = await ops.jobs.submit_job(failed, force=True)
    assert forced["resubmitted_from_job_id"] == failed
    new_job = await ops.jobs.read_job(forced["job_id"])
    assert new_job["parent_job_id"] == failed
    assert new_job["submit_requested_ts"] is not None
    assert new_job["moodys_workflow_id"] is None  # a new job: the old one is never re-sent
    assert (await ops.jobs.read_job(failed))["skipped"] is True
    with pytest.raises(JobError, match=re.escape(f"Job {failed} is skipped; cannot submit it.")):
        await ops.jobs.submit_job(failed, force=True)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ops: ops.jobs.read_job(-1), "Invalid job_id: -1. Must be a positive integer."),
        (lambda ops: ops.jobs.read_job(9999), "Job 9999 not found."),
        (lambda ops: ops.jobs.get_job_config(9999), "Job 9999 not found."),
        (lambda ops: ops.jobs.cancel_job(9999), "Job 9999 not found."),
        (
            lambda ops: ops.jobs.cancel_job(1, reason=5),
            "Invalid reason: must be a string, got int.",
        ),
        (lambda ops: ops.jobs.force_ok_job(1, "x" * 1001), "1001 characters; at most 1000"),
        (lambda ops: ops.jobs.force_ok_job(9999, "ok"), "Job 9999 not found."),
        (lambda ops: ops.jobs.skip_job(True, "x"), "Invalid job_id: True."),
        (lambda ops: ops.jobs.submit_job(9999), "Job 9999 not found."),
        (lambda ops: ops.tracking.job_history(0), "Invalid job_id: 0."),
        (lambda ops: ops.tracking.job_history(1, tracking_rows=0), "Invalid tracking_rows: 0."),
    ],
)
async def test_refusals_write_nothing(
    ops: Operations,
    batch: dict[str, Any],
    snapshot: Snapshot,
    call: Callable[[Operations], Awaitable[Any]],
    message: str,
) -> None:
    before = await snapshot()
    with pytest.raises(JobError) as refused:
        await call(ops)
    assert message in str(refused.value)
    assert await snapshot() == before
