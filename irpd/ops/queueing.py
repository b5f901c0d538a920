"""Queueing INITIATED jobs for the dispatcher inside an operation's transaction: the jobs get
``submit_requested_ts``, their batch becomes ACTIVE (reactivated when FAILED/CANCELLED) and its
configuration ACTIVE, all compare-and-set."""

from __future__ import annotations

from collections.abc import Sequence

from irpd.db.database import Row, Tx
from irpd.errors import BatchError, JobError, StaleStateError
from irpd.ops.batches import configuration_after_submit, require_submittable
from irpd.ops.machines import batch_move
from statemachines.batch import BatchStatus, job_submitted_trigger


def batch_after_job_submitted(batch: Row) -> BatchStatus:
    """The batch's status once one of its jobs is queued (``JobError`` when it may not be)."""
    current = BatchStatus(batch["status"])
    trigger = job_submitted_trigger(current)
    if trigger is None:
        return current
    try:
        return batch_move(batch["id"], current, trigger)
    except BatchError as refused:
        raise JobError(str(refused)) from refused


async def queue_locked(tx: Tx, batch: Row, job_ids: Sequence[int]) -> tuple[list[Row], Row]:
    """Queue ``job_ids`` (INITIATED, not skipped) of the locked ``batch`` (a
    ``job_batch_context`` row read under the lock); returns the queued jobs and the batch's
    new row. Refused (``JobError``) unless the configuration and cycle allow submissions."""
    require_submittable(batch, JobError)
    batch_target = batch_after_job_submitted(batch)
    config_target = configuration_after_submit(batch, JobError)
    queued = [await tx.fetchrow("job_queue", job_id) for job_id in job_ids]
    moved = await tx.fetchrow(
        "batch_mark_submitted",
        batch["id"],
        batch["status"],
        batch_target,
        batch["configuration_id"],
        batch["configuration_status"],
        config_target,
    )
    rows = [row for row in queued if row is not None]
    if len(rows) != len(queued) or moved is None:
        raise StaleStateError(f"A job of batch {batch['id']} or the batch changed while queued.")
    return rows, moved
