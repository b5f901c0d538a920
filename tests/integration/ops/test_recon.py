"""Reconciliation on real rows: mixed outcomes, the log row, completed_ts, scale."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from irpd.ops import Operations, recon
from irpd.ops.results import Reconciled

from .support import Daemon, finish_all, job_ids, register_jobs, run_to, summary_of


async def fetch_rows(dsn: str, query: str, *args: Any) -> list[dict[str, Any]]:
    conn: Any = await asyncpg.connect(dsn)
    try:
        await conn.set_type_codec(
            "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def _three_jobs(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, *ends: tuple[str, ...]
) -> list[int]:
    await ops.batches.submit_batch(batch["batch_id"])
    ids = await job_ids(ops, batch["batch_id"])
    for job_id, reports in zip(ids, ends, strict=True):
        await run_to(ops, daemon, job_id, *reports)
    return ids


@pytest.mark.parametrize(
    ("ends", "computed", "stored", "next_action"),
    [
        ((("FINISHED",), ("FINISHED",), ("FINISHED",)), "COMPLETED", "COMPLETED", "PROCEED"),
        ((("FINISHED",), ("FAILED",), ("FINISHED",)), "FAILED", "FAILED", "REVIEW_FAILURES"),
        # a failure while another job still runs: no outcome yet, the report says it at once
        ((("FAILED",), ("RUNNING",), ("FINISHED",)), "ACTIVE", "ACTIVE", "REVIEW_FAILURES"),
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
    outcome = await ops.recon.recon_batch(batch["batch_id"])
    assert (outcome["computed_status"], outcome["status"], outcome["previous_status"]) == (
        computed,
        stored,
        "ACTIVE",
    )
    assert (outcome["completed_ts"] is not None) == (stored != "ACTIVE")
    assert summary_of(outcome)["total_configs"] == 3
    report = await ops.reports.batch_report(batch["batch_id"])
    assert report["status"] == stored
    assert report["last_recon_result"] == computed
    assert report["next_action"] == next_action


async def settle(ops: Operations, batch_id: int) -> Reconciled:
    """The daemon's reconciliation, coming back when a summary refresh was put off."""
    while True:
        outcome = await ops.recon.recon_batch(batch_id, only_on_change=True)
        retry_in = outcome.get("retry_in")
        if not retry_in:
            return outcome
        await asyncio.sleep(retry_in)


async def test_a_failed_job_leaves_the_batch_active_until_the_others_settle(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    first, second, third = await _three_jobs(
        ops, batch, daemon, ("FAILED",), ("RUNNING",), ("QUEUED",)
    )
    bid = batch["batch_id"]
    outcome = await settle(ops, bid)
    assert (outcome["computed_status"], outcome["status"]) == ("ACTIVE", "ACTIVE")
    assert summary_of(outcome)["failed_job_ids"] == [first]
    report = await ops.reports.batch_report(bid)
    assert (report["status"], report["failed_jobs"], report["next_action"]) == (
        "ACTIVE",
        1,
        "REVIEW_FAILURES",
    )
    await ops.tracking.apply_status_fact(second, "FINISHED", {"status": "FINISHED"})
    assert (await settle(ops, bid))["status"] == "ACTIVE"
    await ops.tracking.apply_status_fact(third, "FAILED", {"status": "FAILED"})
    outcome = await settle(ops, bid)
    assert (outcome["previous_status"], outcome["status"]) == ("ACTIVE", "FAILED")
    assert summary_of(outcome)["failed_job_ids"] == [first, third]


async def test_skip_force_ok_or_cancel_of_the_last_unsettled_job_gives_the_outcome(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    """What the daemon's reconciler does after each command (the e2e test shows it is woken):
    the batch reaches its outcome as soon as its last unsettled job is dealt with."""
    bid = batch["batch_id"]
    await ops.batches.submit_batch(bid)
    first, second, third = await job_ids(ops, bid)
    await run_to(ops, daemon, first, "FAILED")
    await run_to(ops, daemon, second, "RUNNING")  # the third stays queued, never sent
    assert (await settle(ops, bid))["status"] == "ACTIVE"
    await ops.jobs.cancel_job(second)  # at Moody's: CANCEL_REQUESTED, still unsettled
    assert (await settle(ops, bid))["status"] == "ACTIVE"
    await ops.jobs.skip_job(third, "not needed")
    assert (await settle(ops, bid))["status"] == "ACTIVE"  # the cancel is not confirmed yet
    await ops.tracking.apply_status_fact(second, "CANCELLED", {"status": "CANCELLED"})
    assert (await settle(ops, bid))["status"] == "FAILED"
    await ops.jobs.force_ok_job(first, "checked by hand")
    assert (await settle(ops, bid))["status"] == "FAILED"  # the cancelled job's config is open
    await ops.jobs.skip_job(second, "not needed either")
    outcome = await settle(ops, bid)
    assert (outcome["previous_status"], outcome["status"]) == ("FAILED", "COMPLETED")


async def test_the_last_recon_log_row_follows_the_counts(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, db_dsn: str
) -> None:
    """The daemon's reconciliation (``only_on_change``) writes a row whenever the summary
    changes, not only the status: the last row always matches the current counts."""
    first, second, third = await _three_jobs(
        ops, batch, daemon, ("RUNNING",), ("RUNNING",), ("RUNNING",)
    )
    bid = batch["batch_id"]

    async def last_row() -> dict[str, Any]:
        rows = await fetch_rows(
            db_dsn,
            "SELECT recon_result, recon_summary FROM irp_batch_recon_log WHERE batch_id = $1 "
            "ORDER BY recon_ts DESC, id DESC LIMIT 1",
            bid,
        )
        return rows[0]

    async def rows() -> int:
        found = await fetch_rows(
            db_dsn, "SELECT count(*) AS n FROM irp_batch_recon_log WHERE batch_id = $1", bid
        )
        return int(found[0]["n"])

    assert (await settle(ops, bid))["recon_log_id"] is not None
    assert (await last_row())["recon_summary"]["job_status_counts"] == {
        "RUNNING": 3,
        "SKIPPED": 0,
    }
    # nothing changed: no row
    assert (await settle(ops, bid))["recon_log_id"] is None
    assert await rows() == 1
    await ops.tracking.apply_status_fact(first, "FAILED", {"status": "FAILED"})
    await settle(ops, bid)
    await ops.tracking.apply_status_fact(second, "FAILED", {"status": "FAILED"})
    await settle(ops, bid)
    last = await last_row()
    assert last["recon_result"] == "ACTIVE"
    assert last["recon_summary"]["failed_job_ids"] == [first, second]
    assert last["recon_summary"]["job_status_counts"] == {
        "FAILED": 2,
        "RUNNING": 1,
        "SKIPPED": 0,
    }
    await ops.tracking.apply_status_fact(third, "FINISHED", {"status": "FINISHED"})
    outcome = await settle(ops, bid)
    assert outcome["status"] == "FAILED"
    last = await last_row()
    assert (last["recon_result"], last["recon_summary"]) == ("FAILED", outcome["summary"])
    assert await rows() == 4
    report = await ops.reports.batch_report(bid)
    assert report["status_counts"] == {"FAILED": 2, "FINISHED": 1}


async def test_failure_summary_names_jobs_and_workflows(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    ids = await _three_jobs(ops, batch, daemon, ("FINISHED",), ("FAILED",), ("FAILED",))
    summary = summary_of(await ops.recon.recon_batch(batch["batch_id"]))
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
    assert (await ops.recon.recon_batch(batch["batch_id"]))["status"] == "FAILED"
    await ops.jobs.force_ok_job(second, "output checked by hand")
    assert (await ops.recon.recon_batch(batch["batch_id"]))["status"] == "FAILED"
    await ops.jobs.skip_job(third, "analysis dropped from this cycle")
    report = await ops.reports.batch_report(batch["batch_id"])
    assert report["next_action"] == "RECONCILE"
    outcome = await ops.recon.recon_batch(batch["batch_id"])
    assert (outcome["previous_status"], outcome["status"]) == ("FAILED", "COMPLETED")
    assert summary_of(outcome)["total_configs"] == 2  # the skipped configuration needs no job


async def test_an_initiated_batch_stays_initiated(ops: Operations, batch: dict[str, Any]) -> None:
    outcome = await ops.recon.recon_batch(batch["batch_id"])
    assert (outcome["computed_status"], outcome["status"]) == ("ACTIVE", "INITIATED")
    assert outcome["completed_ts"] is None


async def test_reconciling_ten_thousand_jobs(
    ops: Operations, cycle: dict[str, Any], db_dsn: str
) -> None:
    config_id = await register_jobs(ops, cycle["cycle_name"], 10_000)
    batch_id = (await ops.batches.create_batch("multi_job", config_id))["batch_id"]
    await ops.batches.submit_batch(batch_id)
    assert (await ops.recon.recon_batch(batch_id))["status"] == "ACTIVE"
    assert await finish_all(db_dsn, batch_id) == 10_000
    outcome = await ops.recon.recon_batch(batch_id)
    assert outcome["status"] == "COMPLETED"
    assert summary_of(outcome)["fulfilled_configs"] == 10_000
    report = await ops.reports.batch_report(batch_id)
    assert (report["progress_pct"], report["finished_jobs"]) == (100, 10_000)


async def test_the_first_summary_refresh_of_a_batch_in_flight_is_paced_on_an_estimate(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a restart the reconciler sees every batch for the first time, while the tracker
    polls all their jobs at once: a batch still in flight has its summary refreshed only
    after SUMMARY_PACE × the estimated cost, not at once. An outcome is never put off."""
    # 3 jobs at 1 s each: a 30 s estimated pace (the real figure is 10 µs per job)
    monkeypatch.setattr(recon, "RECON_SECONDS_PER_JOB", 1.0)
    first, second, _ = await _three_jobs(
        ops, batch, daemon, ("RUNNING",), ("RUNNING",), ("FINISHED",)
    )
    bid = batch["batch_id"]
    put_off = await ops.recon.recon_batch(bid, only_on_change=True)
    assert put_off["recon_log_id"] is None
    assert 25 <= (put_off.get("retry_in") or 0) <= recon.SUMMARY_PACE * 3
    await ops.tracking.apply_status_fact(first, "FINISHED", {"status": "FINISHED"})
    await ops.tracking.apply_status_fact(second, "FAILED", {"status": "FAILED"})
    settled = await ops.recon.recon_batch(bid, only_on_change=True)
    assert (settled["status"], settled.get("retry_in")) == ("FAILED", None)
    assert settled["recon_log_id"] is not None
