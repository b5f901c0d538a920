"""Withdrawing a mistaken batch: cancel what is not finished, or delete what was never sent.

``cancel_batch`` goes through the same per-job cancel as ``job cancel`` (the job machine's
``request_cancel``: INITIATED jobs are CANCELLED at once, jobs at Moody's get their DELETE
from the daemon's canceller), so a withdrawal is audited job by job, plus one batch audit
row with the reason. ``delete_batch`` removes a batch none of whose jobs ever reached the
dispatcher, leaving only its audit row.
"""

from __future__ import annotations

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database
from irpd.errors import BatchError, JobError, StaleStateError
from irpd.ops import validate
from irpd.ops.batches import live_batch_advice
from irpd.ops.jobs import Jobs
from irpd.ops.machines import batch_move
from irpd.ops.results import CancelledBatch, DeletedBatch
from irpd.ops.rows import plain_row
from statemachines.batch import FINAL_BATCH_STATUSES, BatchStatus, withdraws
from statemachines.errors import IllegalTransition

#: a job the engine moved while it was being cancelled is tried again this many times
CANCEL_ATTEMPTS = 3


class Withdrawals:
    """Batch cancel and delete."""

    def __init__(self, db: Database, jobs: Jobs) -> None:
        self._db = db
        self._jobs = jobs

    async def cancel_batch(
        self, batch_id: int, reason: str, actor: str | None = None
    ) -> CancelledBatch:
        """Cancel every job of the batch that is not terminal; the daemon reconciles it.

        A batch never submitted is withdrawn at once (INITIATED → CANCELLED): it stops being
        the configuration's live batch of its type. Refused, with nothing changed, for a
        COMPLETED batch and a FAILED one whose jobs have all ended: a cancel would change
        nothing there (it used to answer "cancelled 0" and leave the batch live).

        Jobs already being cancelled, or that finished meanwhile, are counted, not refused.
        """
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        why = validate.reason("reason", reason, BatchError)
        who = validate.optional_reason("actor", actor, BatchError)
        batch = await self._db.fetchrow("batch_read", bid)
        if batch is None:
            raise BatchError(f"Batch {bid} not found.")
        unfinished = await self._db.fetch("batch_unfinished_jobs", bid)
        if batch["status"] in FINAL_BATCH_STATUSES or (
            not unfinished and batch["status"] == BatchStatus.FAILED
        ):
            raise BatchError(
                f"Batch {bid} is {batch['status']}: none of its jobs can be cancelled. "
                + live_batch_advice(bid, batch["status"])
            )
        counts = {"cancelled": 0, "cancel_requested": 0, "unchanged": 0}
        for row in unfinished:
            counts[await self._cancel_one(row["id"], why)] += 1
        if withdraws(batch["status"]):
            target = batch_move(bid, batch["status"], "withdraw")
            await self._db.fetchrow("batch_withdraw", bid, batch["status"], target)
        await self._db.execute(
            "batch_audit_insert", bid, "CANCEL", why, who, {**plain_row(batch), **counts}
        )
        return {
            "batch_id": bid,
            "reason": why,
            "cancelled": counts["cancelled"],
            "cancel_requested": counts["cancel_requested"],
            "unchanged": counts["unchanged"],
        }

    async def _cancel_one(self, job_id: int, reason: str) -> str:
        for _ in range(CANCEL_ATTEMPTS):
            try:
                result = await self._jobs.cancel_job(job_id, reason)
            except StaleStateError:
                continue  # the engine moved it meanwhile: decide again on its new status
            except (JobError, IllegalTransition):
                return "unchanged"  # finished, skipped or already cancelling meanwhile
            return "cancelled" if result["status"] == "CANCELLED" else "cancel_requested"
        return "unchanged"

    @conflicts_retried
    async def delete_batch(
        self, batch_id: int, reason: str, actor: str | None = None
    ) -> DeletedBatch:
        """Delete a batch whose jobs were never submitted, keeping an audit row."""
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        why = validate.reason("reason", reason, BatchError)
        who = validate.optional_reason("actor", actor, BatchError)
        async with self._db.transaction() as tx:
            if await tx.fetchrow("batch_lock", bid) is None:
                raise BatchError(f"Batch {bid} not found.")
            context = await tx.fetchrow("batch_delete_context", bid)
            assert context is not None  # locked above
            if context["status"] != "INITIATED" or context["submitted_jobs"]:
                raise BatchError(
                    f"Batch {bid} is {context['status']} and {context['submitted_jobs']} of its "
                    "jobs were submitted; only a batch never submitted can be deleted. "
                    f"Withdraw it with 'batch cancel {bid}' instead."
                )
            if context["step_run_id"] is not None:
                raise BatchError(
                    f"Batch {bid} was created by its cycle's plan; pause the plan and cancel "
                    "the batch instead."
                )
            snapshot = plain_row(context)
            await tx.execute("batch_audit_insert", bid, "DELETE", why, who, snapshot)
            await tx.fetchval("batch_delete_rows", bid)
            await tx.execute("batch_delete_configurations_and_batch", bid)
        return {"batch_id": bid, "deleted": True, "jobs": context["jobs"], "reason": why}
