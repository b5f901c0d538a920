"""Row locks shared by the job operations, always taken in one order: batch, job, job
configuration (so two operations never wait on each other in a cycle)."""

from __future__ import annotations

from typing import Final

from irpd.db.database import Row, Tx
from irpd.errors import JobError
from statemachines.job import JobStatus

#: statuses in which Moody's has (or may be getting) the job: skip and resubmit need a cancel
NEEDS_CANCEL_FIRST: Final = frozenset(
    {
        JobStatus.SUBMITTING,
        JobStatus.SUBMITTED,
        JobStatus.QUEUED,
        JobStatus.PENDING,
        JobStatus.RUNNING,
        JobStatus.CANCEL_REQUESTED,
        JobStatus.CANCELLING,
    }
)


async def lock_job(tx: Tx, job_id: int) -> Row:
    """Job ``job_id`` locked ``FOR NO KEY UPDATE``; ``JobError`` when it does not exist."""
    job = await tx.fetchrow("job_lock", job_id)
    if job is None:
        raise JobError(f"Job {job_id} not found.")
    return job


async def lock_batch_and_job(tx: Tx, job_id: int) -> tuple[Row, Row]:
    """The job's batch (with configuration and cycle statuses), then the job, both locked."""
    batch_id = await tx.fetchval("job_batch_id", job_id)
    if batch_id is None:
        raise JobError(f"Job {job_id} not found.")
    await tx.execute("batch_lock", batch_id)
    batch = await tx.fetchrow("job_batch_context", batch_id)  # read after the lock
    assert batch is not None  # batches are never deleted
    return batch, await lock_job(tx, job_id)


def refuse_in_flight(job: Row, action: str) -> None:
    """``JobError`` when Moody's has (or may be getting) the job."""
    if JobStatus(job["status"]) in NEEDS_CANCEL_FIRST:
        raise JobError(
            f"Job {job['id']} is {job['status']}; cancel it first, then {action} it once it "
            "is CANCELLED."
        )


def refuse_skipped(job: Row, action: str) -> None:
    """``JobError`` when the job is skipped (it was replaced or set aside)."""
    if job["skipped"]:
        raise JobError(f"Job {job['id']} is skipped; cannot {action} it.")


def refuse_completed_batch(batch: Row, job_id: int, action: str) -> None:
    """``JobError`` when the job's batch is COMPLETED (final)."""
    if batch["status"] == "COMPLETED":
        raise JobError(
            f"Batch {batch['id']} of job {job_id} is COMPLETED; cannot {action} its jobs."
        )
