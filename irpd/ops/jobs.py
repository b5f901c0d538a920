"""Jobs: create, read, configuration, skip, cancel, force-ok, submit (queue for the daemon)."""

from __future__ import annotations

from typing import Any

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row, Tx
from irpd.db.moves import apply_moves, operator
from irpd.errors import JobError, StaleStateError
from irpd.ops import validate
from irpd.ops.batches import require_submittable
from irpd.ops.locking import (
    lock_batch_and_job,
    lock_job,
    refuse_completed_batch,
    refuse_in_flight,
    refuse_skipped,
)
from irpd.ops.machines import job_move
from irpd.ops.queueing import batch_after_job_submitted, queue_locked
from irpd.ops.resubmission import require_resubmittable, resubmit_locked
from irpd.ops.results import (
    CreatedJob,
    Job,
    JobConfiguration,
    JobMoved,
    QueueRow,
    SkippedJob,
    SkipRow,
    SubmittedJob,
    shaped,
)
from irpd.ops.rows import plain
from statemachines.batch import BatchStatus
from statemachines.job import JobStatus

EXACTLY_ONE_CONFIGURATION = (
    "Must provide exactly one of: job_configuration_id or job_configuration_data"
)


class Jobs:
    """Job operations (resubmission is in :mod:`irpd.ops.resubmission`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @conflicts_retried
    async def create_job(
        self,
        batch_id: int,
        configuration_id: int,
        job_configuration_id: int | None = None,
        job_configuration_data: dict[str, Any] | None = None,
    ) -> CreatedJob:
        """Add an INITIATED job to a batch, on a new job configuration (from
        ``job_configuration_data``) or on an existing one of the batch (shared)."""
        bid = validate.positive_id("batch_id", batch_id, JobError)
        config_id = validate.positive_id("configuration_id", configuration_id, JobError)
        validate.exactly_one(
            {
                "job_configuration_id": job_configuration_id,
                "job_configuration_data": job_configuration_data,
            },
            JobError,
            EXACTLY_ONE_CONFIGURATION,
        )
        shared_id = validate.optional_id("job_configuration_id", job_configuration_id, JobError)
        data = validate.optional_json_object(
            "job_configuration_data", job_configuration_data, JobError
        )
        async with self._db.transaction() as tx:
            if await tx.fetchrow("batch_lock", bid) is None:
                raise JobError(f"Batch {bid} not found.")
            batch = await tx.fetchrow("job_batch_context", bid)
            assert batch is not None  # locked above
            if batch["configuration_id"] != config_id:
                raise JobError(
                    f"Batch {bid} belongs to configuration {batch['configuration_id']}, "
                    f"not {config_id}."
                )
            if batch["status"] == BatchStatus.COMPLETED:
                raise JobError(f"Batch {bid} is COMPLETED; cannot add jobs to it.")
            if shared_id is not None:
                await self._require_shareable(tx, bid, shared_id)
                row = await tx.fetchrow("job_create_on_configuration", bid, shared_id)
            else:
                row = await tx.fetchrow("job_create_with_new_configuration", bid, config_id, data)
        assert row is not None
        return shaped(CreatedJob, row)

    async def read_job(self, job_id: int) -> Job:
        """One job, every column (request/response included), with its batch's status."""
        jid = validate.positive_id("job_id", job_id, JobError)
        row = await self._db.fetchrow("job_read", jid)
        if row is None:
            raise JobError(f"Job {jid} not found.")
        return shaped(Job, row)

    async def get_job_config(self, job_id: int) -> JobConfiguration:
        """The job configuration the job runs with (override lineage included)."""
        jid = validate.positive_id("job_id", job_id, JobError)
        row = await self._db.fetchrow("job_configuration_of_job", jid)
        if row is None:
            raise JobError(f"Job {jid} not found.")
        return shaped(JobConfiguration, row)

    @conflicts_retried
    async def skip_job(self, job_id: int, reason: str) -> SkippedJob:
        """Mark a job skipped (excluded from reconciliation), with a reason. Its job
        configuration is skipped too when no other non-skipped job uses it, so that it no
        longer blocks the batch. Refused for in-flight jobs (cancel first)."""
        jid = validate.positive_id("job_id", job_id, JobError)
        why = validate.reason("reason", reason, JobError)
        async with self._db.transaction() as tx:
            batch, job = await lock_batch_and_job(tx, jid)
            if job["skipped"]:
                raise JobError(f"Job {jid} is already skipped.")
            refuse_in_flight(job, "skip")
            refuse_completed_batch(batch, jid, "skip")
            row = await tx.fetchrow("job_skip", jid, job["status"], why)
            if row is None:
                raise StaleStateError(f"Job {jid} changed while being skipped.")
        return {
            **shaped(SkipRow, row),
            "skipped": True,
            "skipped_reason_txt": why,
            "batch_id": batch["id"],  # the control socket wakes the reconciler with it
        }

    async def cancel_job(self, job_id: int, reason: str | None = None) -> JobMoved:
        """INITIATED → CANCELLED at once; in flight → CANCEL_REQUESTED (the daemon sends the
        cancel to Moody's); terminal or already cancelling → ``JobError``."""
        jid = validate.positive_id("job_id", job_id, JobError)
        why = validate.optional_reason("reason", reason, JobError)
        data = {"action": "cancel", "reason": why}
        return await self._transition(jid, "request_cancel", data)

    async def force_ok_job(self, job_id: int, reason: str) -> JobMoved:
        """Declare a job done (FORCED_OK) from INITIATED, FAILED, ERROR or CANCELLED, with a
        required reason (``forced_ok_reason_txt``)."""
        jid = validate.positive_id("job_id", job_id, JobError)
        why = validate.reason("reason", reason, JobError)
        data = {"action": "force_ok", "reason": why}
        return await self._transition(jid, "force_ok", data, forced_ok_reason=why)

    @conflicts_retried
    async def submit_job(self, job_id: int, force: bool = False) -> SubmittedJob:
        """Queue one INITIATED job for the dispatcher (its batch becomes ACTIVE, reactivated
        when FAILED/CANCELLED; its configuration ACTIVE). With ``force`` a job that was
        already submitted and is terminal is resubmitted (a new job, never re-sent) and the
        new job is queued."""
        jid = validate.positive_id("job_id", job_id, JobError)
        if not isinstance(force, bool):
            raise JobError(f"Invalid force: {validate.shown(force)}. Must be true or false.")
        async with self._db.transaction() as tx:
            batch, job = await lock_batch_and_job(tx, jid)
            refuse_skipped(job, "submit")
            require_submittable(batch, JobError)
            batch_after_job_submitted(batch)  # refused before a forced resubmission
            queued_id, resubmitted_from = await self._job_to_queue(tx, batch, job, force)
            (queued,), moved = await queue_locked(tx, batch, [queued_id])
        return {
            **shaped(QueueRow, queued),
            "resubmitted_from_job_id": resubmitted_from,
            "batch_id": batch["id"],
            "batch_status": moved["status"],
        }

    async def _job_to_queue(
        self, tx: Tx, batch: Row, job: Row, force: bool
    ) -> tuple[int, int | None]:
        if job["status"] == JobStatus.INITIATED:
            return job["id"], None
        if not force:
            raise JobError(
                f"Job {job['id']} is {job['status']}; it was already submitted. Use force=True "
                "to resubmit it as a new job."
            )
        require_resubmittable(batch, job)
        created = await resubmit_locked(tx, job, None, None)
        return created["job_id"], job["id"]

    async def _require_shareable(self, tx: Tx, batch_id: int, job_configuration_id: int) -> None:
        shared = await tx.fetchrow("job_configuration_lock", job_configuration_id)
        if shared is None:
            raise JobError(f"Job configuration {job_configuration_id} not found.")
        if shared["batch_id"] != batch_id:
            raise JobError(
                f"Job configuration {job_configuration_id} belongs to batch {shared['batch_id']}, "
                f"not {batch_id}."
            )
        if shared["skipped"]:
            raise JobError(
                f"Job configuration {job_configuration_id} is skipped; cannot add jobs on it."
            )

    @conflicts_retried
    async def _transition(
        self, job_id: int, trigger: str, data: dict[str, Any], forced_ok_reason: str | None = None
    ) -> JobMoved:
        """Lock, decide through the machine, compare-and-set plus audit row (operator)."""
        async with self._db.transaction() as tx:
            job = await lock_job(tx, job_id)
            if trigger == "force_ok":
                refuse_skipped(job, "force-ok")
            move = job_move(job_id, job["status"], trigger, data)
            rows = await apply_moves(tx, [move], operator(forced_ok_reason), "operator")
            if not rows:
                raise StaleStateError(f"Job {job_id} changed status while being moved.")
        return {
            "job_id": job_id,
            "status": rows[0]["target"],
            "previous_status": rows[0]["expected"],
            "tracked_ts": plain(rows[0]["tracked_ts"]),
            "batch_id": job["batch_id"],  # the control socket wakes the reconciler with it
        }
