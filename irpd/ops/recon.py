"""Batch reconciliation: the pure rule on two narrow SELECTs, logged and applied at once."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row
from irpd.errors import BatchError, StaleStateError
from irpd.ops import validate
from irpd.ops.rows import plain
from statemachines.batch import BatchStatus, batch_after_recon
from statemachines.job import JobStatus
from statemachines.recon import ReconJob, ReconJobConfiguration, ReconOutcome, reconcile_batch

#: batch statuses that set ``completed_ts`` (FAILED/CANCELLED may still be reactivated)
SETTLED_BATCH_STATUSES: Final = [
    str(BatchStatus.COMPLETED),
    str(BatchStatus.FAILED),
    str(BatchStatus.CANCELLED),
]


def _reconcile_rows(config_rows: list[Row], job_rows: list[Row]) -> ReconOutcome:
    configurations = [ReconJobConfiguration(r["id"], r["skipped"]) for r in config_rows]
    jobs = [
        ReconJob(
            r["id"],
            r["job_configuration_id"],
            JobStatus(r["status"]),
            r["skipped"],
            r["moodys_workflow_id"],
        )
        for r in job_rows
    ]
    return reconcile_batch(configurations, jobs)


def _settled_as_is(quick: Row) -> bool:
    """True when the live counts show that reconciling cannot change the batch's status:
    an ACTIVE batch with jobs still open and none failed, not all cancelled; or a FAILED
    batch that still has failed jobs. (Exact for batches whose configurations each have one
    live job; an operator's `batch recon` always reconciles in full.)"""
    open_jobs, failed = quick["open_jobs"], quick["failed_jobs"]
    all_cancelled = quick["live_jobs"] > 0 and quick["cancelled_jobs"] == quick["live_jobs"]
    if quick["status"] == BatchStatus.ACTIVE:
        return open_jobs > 0 and failed == 0 and not all_cancelled
    return bool(quick["status"] == BatchStatus.FAILED and failed > 0)


class Recon:
    """``recon_batch``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @conflicts_retried
    async def recon_batch(self, batch_id: int, *, only_on_change: bool = False) -> dict[str, Any]:
        """Reconcile a batch from its jobs: one recon log row plus the batch's status
        (compare-and-set through ``batch_after_recon``), in one transaction.

        With ``only_on_change`` (the daemon's automatic reconciliations) nothing is written
        unless the batch's status changes; ``recon_log_id`` is then ``None``.

        Returns ``status`` (what the batch now is), ``computed_status`` (what its jobs say),
        ``previous_status`` and the logged ``summary``. Cost: two SELECTs of narrow columns,
        whatever the number of jobs.
        """
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        if only_on_change:
            quick = await self._db.fetchrow("recon_quick", bid)
            if quick is not None and _settled_as_is(quick):
                status = str(quick["status"])
                return {
                    "batch_id": bid,
                    "status": status,
                    "computed_status": status,
                    "previous_status": status,
                    "recon_log_id": None,
                    "summary": None,
                }
        async with self._db.transaction() as tx:
            batch = await tx.fetchrow("batch_lock", bid)
            if batch is None:
                raise BatchError(f"Batch {bid} not found.")
            config_rows = await tx.fetch("recon_job_configurations", bid)
            job_rows = await tx.fetch("recon_jobs", bid)
            # 100,000 rows of pure Python work: off the event loop
            outcome = await asyncio.to_thread(_reconcile_rows, config_rows, job_rows)
            previous = BatchStatus(batch["status"])
            target = batch_after_recon(bid, previous, outcome.status)
            if only_on_change and target == previous:
                return {
                    "batch_id": bid,
                    "status": str(previous),
                    "computed_status": str(outcome.status),
                    "previous_status": str(previous),
                    "recon_log_id": None,
                    "summary": dict(outcome.summary),
                }
            recorded = await tx.fetchrow(
                "recon_record",
                bid,
                previous,
                target,
                outcome.status,
                outcome.summary,
                SETTLED_BATCH_STATUSES,
            )
            if recorded is None:
                raise StaleStateError(f"Batch {bid} changed status during reconciliation.")
        return {
            "batch_id": bid,
            "status": recorded["status"],
            "computed_status": str(outcome.status),
            "previous_status": str(previous),
            "completed_ts": plain(recorded["completed_ts"]),
            "recon_log_id": recorded["recon_log_id"],
            "summary": dict(outcome.summary),
        }
