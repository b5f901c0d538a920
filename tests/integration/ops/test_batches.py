"""Batches: creation in the spec's validation order, submission, reads and filters."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from irpd.errors import BatchError
from irpd.ops import Operations
from irpd.samples import sample_path

from .support import Daemon, Fingerprint, job_ids, register_jobs, run_to

Snapshot = Callable[[], Awaitable[Fingerprint]]


async def test_create_batch_makes_one_job_per_job_configuration(
    ops: Operations, configuration_id: int
) -> None:
    created = await ops.batches.create_batch("multi_job", configuration_id, step_id=5)
    assert created["status"] == "INITIATED"
    assert (created["job_configurations"], created["jobs"]) == (3, 3)
    batch = await ops.batches.read_batch(created["batch_id"])
    assert batch["step_id"] == 5
    assert batch["batch_type"] == "multi_job"
    assert batch["submitted_ts"] is None
    configs = await ops.batches.get_batch_job_configurations(created["batch_id"])
    assert [c["job_configuration_data"]["job_key"] for c in configs] == ["job-1", "job-2", "job-3"]
    assert all(c["job_configuration_data"]["batch_type"] == "multi_job" for c in configs)
    jobs = await ops.batches.get_batch_jobs(created["batch_id"])
    assert [j["job_configuration_id"] for j in jobs] == [c["id"] for c in configs]
    assert {j["status"] for j in jobs} == {"INITIATED"}


async def test_the_sample_cycle_feeds_every_cycle_batch_type(
    ops: Operations, cycle: dict[str, Any]
) -> None:
    loaded = await ops.configurations.load_configuration(cycle["id"], sample_path())
    analysis = await ops.batches.create_batch("analysis", loaded["configuration_id"])
    assert analysis["jobs"] == 10
    exports = await ops.batches.create_batch("export_to_rdm", loaded["configuration_id"])
    assert exports["jobs"] == 14


async def test_ten_thousand_jobs_are_created_in_one_transaction(
    ops: Operations, cycle: dict[str, Any]
) -> None:
    config_id = await register_jobs(ops, cycle["cycle_name"], 10_000)
    created = await ops.batches.create_batch("multi_job", config_id)
    assert created["jobs"] == 10_000
    report = await ops.reports.batch_report(created["batch_id"])
    assert (report["total_configs"], report["total_jobs"], report["unsubmitted_jobs"]) == (
        10_000,
        10_000,
        10_000,
    )
    submitted = await ops.batches.submit_batch(created["batch_id"])
    assert submitted["submitted_jobs"] == 10_000


async def test_validation_order_configuration_before_batch_type(
    ops: Operations, cycle: dict[str, Any], configuration_id: int, snapshot: Snapshot
) -> None:
    before = await snapshot()
    with pytest.raises(BatchError, match="Configuration 999 not found"):
        await ops.batches.create_batch("nonexistent", 999)
    with pytest.raises(BatchError) as unknown:
        await ops.batches.create_batch("nonexistent", configuration_id)
    assert str(unknown.value).startswith("Unknown batch_type 'nonexistent'. Registered types: [")
    assert "'multi_job'" in str(unknown.value)
    await ops.cycles.create_cycle("2026-Q2")  # archives the configuration's cycle
    with pytest.raises(BatchError, match="ARCHIVED cycle"):
        await ops.batches.create_batch("nonexistent", configuration_id)
    after = await snapshot()
    assert after["irp_batch"] == before["irp_batch"]
    assert after["irp_job"] == before["irp_job"]


async def test_a_transformer_without_output_is_refused(
    ops: Operations, configuration_id: int, snapshot: Snapshot
) -> None:
    before = await snapshot()
    # the generic workbook has no Analysis Table: the analysis transformer cannot run
    with pytest.raises(BatchError, match="analysis"):
        await ops.batches.create_batch("analysis", configuration_id)
    assert await snapshot() == before


async def test_submit_batch_queues_jobs_and_activates(
    ops: Operations, batch: dict[str, Any], configuration_id: int
) -> None:
    batch_id = batch["batch_id"]
    ids = await job_ids(ops, batch_id)
    result = await ops.batches.submit_batch(batch_id)
    assert result["batch_id"] == batch_id
    assert result["batch_status"] == "ACTIVE"
    assert result["submitted_jobs"] == 3
    assert result["jobs"] == [{"job_id": job_id, "status": "INITIATED"} for job_id in ids]
    read = await ops.batches.read_batch(batch_id)
    assert read["status"] == "ACTIVE"
    assert read["submitted_ts"] == result["submitted_ts"] is not None
    assert (await ops.configurations.read_configuration(configuration_id))["status"] == "ACTIVE"
    jobs = await ops.batches.get_batch_jobs(batch_id)
    assert all(job["submit_requested_ts"] is not None for job in jobs)
    with pytest.raises(
        BatchError, match=re.escape(f"Batch {batch_id} is ACTIVE and has no INITIATED")
    ):
        await ops.batches.submit_batch(batch_id)


async def test_submit_batch_skips_skipped_jobs(ops: Operations, batch: dict[str, Any]) -> None:
    first, *rest = await job_ids(ops, batch["batch_id"])
    await ops.jobs.skip_job(first, "not needed this quarter")
    result = await ops.batches.submit_batch(batch["batch_id"])
    assert [job["job_id"] for job in result["jobs"]] == rest


async def test_a_failed_batch_is_reactivated_by_submitting_its_resubmitted_jobs(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    batch_id = batch["batch_id"]
    await ops.batches.submit_batch(batch_id)
    first, second, third = await job_ids(ops, batch_id)
    await run_to(ops, daemon, first, "FINISHED")
    await run_to(ops, daemon, second, "FAILED")
    await run_to(ops, daemon, third, "FINISHED")
    assert (await ops.recon.recon_batch(batch_id))["status"] == "FAILED"
    with pytest.raises(BatchError, match="is FAILED and has no INITIATED jobs"):
        await ops.batches.submit_batch(batch_id)
    replacement = await ops.resubmissions.resubmit_job(second)
    again = await ops.batches.submit_batch(batch_id)
    assert again["batch_status"] == "ACTIVE"
    assert again["previous_status"] == "FAILED"
    assert [job["job_id"] for job in again["jobs"]] == [replacement["job_id"]]
    read = await ops.batches.read_batch(batch_id)
    assert read["completed_ts"] is None


async def test_submit_refusals(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    batch_id = batch["batch_id"]
    await ops.batches.submit_batch(batch_id)
    for job_id in await job_ids(ops, batch_id):
        await run_to(ops, daemon, job_id, "FINISHED")
    assert (await ops.recon.recon_batch(batch_id))["status"] == "COMPLETED"
    before = await snapshot()
    with pytest.raises(
        BatchError, match=re.escape(f"Batch {batch_id} is COMPLETED; cannot submit")
    ):
        await ops.batches.submit_batch(batch_id)
    with pytest.raises(BatchError, match="Batch 404 not found"):
        await ops.batches.submit_batch(404)
    assert await snapshot() == before


async def test_batches_of_an_archived_cycle_are_not_submitted(
    ops: Operations, batch: dict[str, Any], snapshot: Snapshot
) -> None:
    await ops.cycles.create_cycle("2026-Q2")
    before = await snapshot()
    with pytest.raises(BatchError, match="Cycle '2026-Q1' is ARCHIVED"):
        await ops.batches.submit_batch(batch["batch_id"])
    assert await snapshot() == before


async def test_job_filters(ops: Operations, batch: dict[str, Any], daemon: Daemon) -> None:
    batch_id = batch["batch_id"]
    await ops.batches.submit_batch(batch_id)
    first, second, third = await job_ids(ops, batch_id)
    await run_to(ops, daemon, first, "FAILED")
    await ops.resubmissions.resubmit_job(first)
    await run_to(ops, daemon, second, "RUNNING")
    all_jobs = await ops.batches.get_batch_jobs(batch_id)
    assert len(all_jobs) == 4
    active = await ops.batches.get_batch_jobs(batch_id, skipped=False)
    assert [j["id"] for j in active] == [second, third, all_jobs[-1]["id"]]
    assert [j["id"] for j in await ops.batches.get_batch_jobs(batch_id, skipped=True)] == [first]
    assert [j["id"] for j in await ops.batches.get_batch_jobs(batch_id, status="FAILED")] == [first]
    assert await ops.batches.get_batch_jobs(batch_id, skipped=False, status="FAILED") == []
    assert len(await ops.batches.get_batch_job_configurations(batch_id, skipped=False)) == 3
    assert [b["id"] for b in await ops.batches.list_batches("ACTIVE")] == [batch_id]
    assert await ops.batches.list_batches("COMPLETED") == []
    assert len(await ops.batches.list_batches(configuration_id=batch["configuration_id"])) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda ops: ops.batches.read_batch(-1),
            "Invalid batch_id: -1. Must be a positive integer.",
        ),
        (lambda ops: ops.batches.read_batch(2**63), "Must be a positive integer."),
        (lambda ops: ops.batches.read_batch(77), "Batch 77 not found."),
        (
            lambda ops: ops.batches.submit_batch("1"),
            "Invalid batch_id: 1. Must be a positive integer.",
        ),
        (lambda ops: ops.recon.recon_batch(False), "Invalid batch_id: False."),
        (
            lambda ops: ops.batches.get_batch_jobs(1, status="INVALID"),
            "Invalid status: INVALID. Must be one of ['INITIATED', ",
        ),
        (lambda ops: ops.batches.get_batch_jobs(1, skipped="no"), "Invalid skipped: no."),
        (lambda ops: ops.batches.get_batch_jobs(77), "Batch 77 not found."),
        (lambda ops: ops.batches.get_batch_job_configurations(1, skipped=1), "Invalid skipped: 1."),
        (
            lambda ops: ops.batches.list_batches("DONE"),
            "Invalid status: DONE. Must be one of ['INITIATED', ",
        ),
        (lambda ops: ops.batches.create_batch("", 1), "Invalid batch_type: must not be blank."),
        (lambda ops: ops.batches.create_batch(None, 1), "Invalid batch_type: must be a string"),
        (lambda ops: ops.batches.create_batch("multi_job", 0), "Invalid configuration_id: 0."),
        (lambda ops: ops.batches.create_batch("multi_job", 1, step_id=-5), "Invalid step_id: -5."),
        (
            lambda ops: ops.batches.create_batch("multi_job", 1, step_id=True),
            "Invalid step_id: True.",
        ),
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
    with pytest.raises(BatchError) as refused:
        await call(ops)
    assert message in str(refused.value)
    assert await snapshot() == before
