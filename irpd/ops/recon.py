"""Batch reconciliation: the pure rule on two narrow SELECTs, logged and applied at once."""

from __future__ import annotations

from typing import Any, Final

from irpd.db.database import Database
from irpd.errors import BatchError, StaleStateError
from irpd.ops import validate
from irpd.ops.rows import plain
from statemachines.batch import BatchStatus, batch_after_recon
from statemachines.job import JobStatus
from statemachines.recon import ReconJob, ReconJobConfiguration, reconcile_batch

#: batch statuses that set ``completed_ts`` (FAILED/CANCELLED may still be reactivated)
SETTLED_BATCH_STATUSES: Final = [
    str(BatchStatus.COMPLETED),
    str(BatchStatus.FAILED),
    str(BatchStatus.CANCELLED),
]


class Recon:
    """``recon_batch``."""

    def __init__(self, db: Database) -> None:
        self._db = db

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
        async with self._db.transaction() as tx:
            batch = await tx.fetchrow("batch_lock", bid)
            if batch is None:
                raise BatchError(f"Batch {bid} not found.")
            configurations = [
                ReconJobConfiguration(row["id"], row["skipped"])
                for row in await tx.fetch("recon_job_configurations", bid)
            ]
            jobs = [
                ReconJob(
                    row["id"],
                    row["job_configuration_id"],
                    JobStatus(row["status"]),
                    row["skipped"],
                    row["moodys_workflow_id"],
                )
                for row in await tx.fetch("recon_jobs", bid)
            ]
            outcome = reconcile_batch(configurations, jobs)
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
