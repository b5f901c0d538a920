"""Reconciliation on real rows: mixed outcomes, the log row, completed_ts, scale."""

from __future__ import annotations

from typing import Any

import pytest

from irpd.ops import Operations

from .support import Daemon, finish_all, job_ids, register_jobs, run_to


async def _three_jobs(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, *ends: tuple[str, ...]
) -> list[int]:
    await ops.submit_batch(batch["batch_id"])
    ids = await job_ids(ops, batch["batch_id"])
    for job_id, reports in zip(ids, ends, strict=True):
        await run_to(ops, daemon, job_id, *reports)
    return ids


@pytest.mark.parametrize(
    ("ends", "computed", "stored", "next_action"),
    [
        ((("FINISHED",), ("FINISHED",), ("FINISHED",)), "COMPLETED", "COMPLETED", "PROCEED"),
        ((("FINISHED",), ("FAILED",), ("FINISHED",)), "FAILED", "FAILED", "REVIEW_FAILURES"),
        ((("FAILED",), ("RUNNING",), ("FINISHED",)), "FAILED", "FAILED", "TRACK"),
        (
            (("CANCELLED",), ("CANCELLED",), ("CANCELLED",)),
            "CANCELLED",
            "CANCELLED",
            "RESUBMIT_OR_SKIP",
        ),
        ((("FINISHED",), ("RUNNING",), ("QUEUED",)), "ACTIVE", "ACTIVE", "TRACK"),
        ((("FINISHED",), ("CANCELLED",), ("FINISHED",)), "ACTIVE", "ACTIVE", "RESUBMIT_OR_SKIP"),
    ],
)
async def test_mixed_outcomes(
    ops: Operations,
    batch: dict[str, Any],
    daemon: Daemon,
    ends: tuple[tuple[str, ...], ...],
    computed: str,
    stored: str,
    next_action: str,
) -> None:
    await _three_jobs(ops, batch, daemon, *ends)
    outcome = await ops.recon_batch(batch["batch_id"])
    assert (outcome["computed_status"], outcome["status"], outcome["previous_status"]) == (
        computed,
        stored,
        "ACTIVE",
    )
    assert (outcome["completed_ts"] is not None) == (stored != "ACTIVE")
    assert outcome["summary"]["total_configs"] == 3
    report = await ops.batch_report(batch["batch_id"])
    assert report["status"] == stored
    assert report["last_recon_result"] == computed
    assert report["next_action"] == next_action


async def test_failure_summary_names_jobs_and_workflows(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    ids = await _three_jobs(ops, batch, daemon, ("FINISHED",), ("FAILED",), ("FAILED",))
    summary = (await ops.recon_batch(batch["batch_id"]))["summary"]
    assert summary["failed_job_ids"] == ids[1:]
    assert summary["failed_workflow_ids"] == [str(1_000_000 + i) for i in ids[1:]]
    assert summary["fulfilled_configs"] == 1
    assert summary["job_status_counts"] == {"FAILED": 2, "FINISHED": 1, "SKIPPED": 0}


async def test_a_failed_batch_completes_once_failures_are_forced_ok_or_skipped(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    _, second, third = await _three_jobs(
        ops, batch, daemon, ("FINISHED",), ("FAILED",), ("FAILED",)
    )
    assert (await ops.recon_batch(batch["batch_id"]))["status"] == "FAILED"
    await ops.force_ok_job(second, "output checked by hand")
    assert (await ops.recon_batch(batch["batch_id"]))["status"] == "FAILED"
    await ops.skip_job(third, "analysis dropped from this cycle")
    report = await ops.batch_report(batch["batch_id"])
    assert report["next_action"] == "RECONCILE"
    outcome = await ops.recon_batch(batch["batch_id"])
    assert (outcome["previous_status"], outcome["status"]) == ("FAILED", "COMPLETED")
    assert outcome["summary"]["total_configs"] == 2  # the skipped configuration needs no job


async def test_an_initiated_batch_stays_initiated(ops: Operations, batch: dict[str, Any]) -> None:
    outcome = await ops.recon_batch(batch["batch_id"])
    assert (outcome["computed_status"], outcome["status"]) == ("ACTIVE", "INITIATED")
    assert outcome["completed_ts"] is None


async def test_reconciling_ten_thousand_jobs(
    ops: Operations, cycle: dict[str, Any], db_dsn: str
) -> None:
    config_id = await register_jobs(ops, cycle["cycle_name"], 10_000)
    batch_id = (await ops.create_batch("multi_job", config_id))["batch_id"]
    await ops.submit_batch(batch_id)
    assert (await ops.recon_batch(batch_id))["status"] == "ACTIVE"
    assert await finish_all(db_dsn, batch_id) == 10_000
    outcome = await ops.recon_batch(batch_id)
    assert outcome["status"] == "COMPLETED"
    assert outcome["summary"]["fulfilled_configs"] == 10_000
    report = await ops.batch_report(batch_id)
    assert (report["progress_pct"], report["finished_jobs"]) == (100, 10_000)
