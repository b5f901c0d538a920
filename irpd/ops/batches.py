"""Batches: create (through a transformer), submit, read, list, their jobs and configurations."""

from __future__ import annotations

import asyncio
from typing import Any, Final

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row, UniqueViolation
from irpd.errors import BatchError, ConfigurationError, StaleStateError
from irpd.ops import validate
from irpd.ops.machines import batch_move, configuration_move
from irpd.ops.ports import TransformerRegistry
from irpd.ops.results import (
    Batch,
    BatchJob,
    BatchRow,
    CreatedBatch,
    InsertedBatch,
    JobConfiguration,
    QueuedJob,
    SubmittedBatch,
    shaped,
    shaped_rows,
)
from irpd.ops.rows import plain
from statemachines.batch import BatchStatus
from statemachines.configuration import (
    BATCHABLE_CONFIGURATION_STATUSES,
    ConfigurationStatus,
    batch_submitted_trigger,
)
from statemachines.job import JobStatus

BATCH_STATUSES: Final = tuple(str(status) for status in BatchStatus)
#: the unique index behind "one live batch per (configuration, batch type)" (migration 0090)
ONE_LIVE_BATCH_INDEX: Final = "irp_batch_one_live"


class EmptyBatchError(BatchError):
    """The batch type found no work in the configuration (a plan step completes as SKIPPED)."""


class DuplicateBatchError(BatchError):
    """A live batch of the type already exists on the configuration; ``existing_id`` names it."""

    def __init__(self, message: str, existing_id: int | None) -> None:
        super().__init__(message)
        self.existing_id = existing_id
JOB_STATUSES: Final = tuple(str(status) for status in JobStatus)
MAX_BATCH_TYPE_LENGTH: Final = 100


def live_batch_advice(batch_id: int, status: str) -> str:
    """What an operator can do about a live batch that stands in the way of another of its
    type: only what works from its status (a cancel frees the type only while no job of the
    batch has finished or failed; a COMPLETED batch is final)."""
    duplicate = "create another with --allow-duplicate REASON."
    if status == BatchStatus.COMPLETED:
        return f"It is complete; to run the type again, {duplicate}"
    if status == BatchStatus.FAILED:
        return f"Resubmit or skip its failed jobs, or {duplicate}"
    return f"Let it finish, withdraw it with 'batch cancel {batch_id}', or {duplicate}"


def require_submittable(context: Row, error: validate.ErrorType) -> None:
    """Refuse unless the configuration is VALID/ACTIVE and its cycle is ACTIVE.

    ``context`` carries ``configuration_id``, ``configuration_status``, ``cycle_name`` and
    ``cycle_status`` (``batch_submit_context`` / ``job_batch_context``).
    """
    if context["configuration_status"] not in BATCHABLE_CONFIGURATION_STATUSES:
        raise error(
            f"Configuration {context['configuration_id']} is {context['configuration_status']}; "
            "jobs can be submitted only from a VALID or ACTIVE configuration."
        )
    if context["cycle_status"] != "ACTIVE":
        raise error(
            f"Cycle '{context['cycle_name']}' is {context['cycle_status']}; jobs of an archived "
            "cycle cannot be submitted."
        )


def configuration_after_submit(context: Row, error: validate.ErrorType) -> ConfigurationStatus:
    """VALID → ACTIVE (``activate``) once a batch of the configuration is submitted."""
    current = ConfigurationStatus(context["configuration_status"])
    trigger = batch_submitted_trigger(current)
    if trigger is None:
        return current
    try:
        return configuration_move(context["configuration_id"], current, trigger)
    except ConfigurationError as refused:
        raise error(str(refused)) from refused


class Batches:
    """Batch operations."""

    def __init__(self, db: Database, transformers: TransformerRegistry) -> None:
        self._db = db
        self._transformers = transformers

    @conflicts_retried
    async def create_batch(
        self,
        batch_type: str,
        configuration_id: int,
        step_id: int | None = None,
        *,
        allow_duplicate: str | None = None,
        step_run_id: int | None = None,
    ) -> CreatedBatch:
        """Create a batch, its job configurations and INITIATED jobs in one transaction.

        Validated in the spec's order: the configuration exists and is VALID or ACTIVE (in the
        ACTIVE cycle); ``batch_type`` is registered; the transformer yields ≥ 1 job
        configuration. One live batch per (configuration, batch type): another is refused
        (:class:`DuplicateBatchError`, enforced by a unique index, so two concurrent creates
        cannot both pass) unless ``allow_duplicate`` gives the operator's reason.
        """
        kind = validate.text("batch_type", batch_type, BatchError, max_length=MAX_BATCH_TYPE_LENGTH)
        config_id = validate.positive_id("configuration_id", configuration_id, BatchError)
        step = validate.optional_id("step_id", step_id, BatchError)
        duplicate = validate.optional_reason("allow_duplicate", allow_duplicate, BatchError)
        run_id = validate.optional_id("step_run_id", step_run_id, BatchError)
        configuration = await self._db.fetchrow("batch_configuration_for_create", config_id)
        if configuration is None:
            raise BatchError(f"Configuration {config_id} not found.")
        self._require_batchable(config_id, configuration)
        names = list(self._transformers.names())
        if kind not in names:
            raise BatchError(f"Unknown batch_type '{kind}'. Registered types: {names}")
        if duplicate is None:
            await self._refuse_duplicate(config_id, kind)
        job_configurations = await asyncio.to_thread(
            self._transform, kind, config_id, configuration["configuration_data"]
        )
        try:
            async with self._db.transaction() as tx:
                locked = await tx.fetchrow("batch_configuration_lock", config_id)
                if locked is None:
                    raise BatchError(f"Configuration {config_id} not found.")
                self._require_batchable(config_id, locked)
                row = await tx.fetchrow(
                    "batch_insert_with_jobs",
                    config_id,
                    kind,
                    step,
                    job_configurations,
                    duplicate,
                    run_id,
                )
                if duplicate is not None:
                    assert row is not None
                    await tx.execute(
                        "batch_audit_insert",
                        row["batch_id"],
                        "DUPLICATE",
                        duplicate,
                        None,
                        {"batch_type": kind, "configuration_id": config_id},
                    )
        except UniqueViolation as refused:
            if refused.constraint != ONE_LIVE_BATCH_INDEX:
                raise
            await self._refuse_duplicate(config_id, kind)
            raise
        assert row is not None
        return {
            **shaped(InsertedBatch, row),
            "batch_type": kind,
            "configuration_id": config_id,
            "step_id": step,
            "duplicate_reason": duplicate,
        }

    async def _refuse_duplicate(self, config_id: int, kind: str) -> None:
        live = await self._db.fetchrow("batch_live_of_type", config_id, kind)
        if live is not None:
            raise DuplicateBatchError(
                f"Configuration {config_id} already has {kind} batch {live['id']} "
                f"({live['status']}). {live_batch_advice(live['id'], live['status'])}",
                live["id"],
            )

    @conflicts_retried
    async def submit_batch(self, batch_id: int) -> SubmittedBatch:
        """Queue the batch's INITIATED non-skipped jobs for the dispatcher; batch → ACTIVE
        (sets ``submitted_ts``), configuration VALID → ACTIVE; one transaction.

        Also accepted: a FAILED/CANCELLED batch with resubmitted INITIATED jobs (reactivated),
        and an ACTIVE batch with INITIATED jobs not yet queued (status unchanged).
        """
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        async with self._db.transaction() as tx:
            if await tx.fetchrow("batch_lock", bid) is None:
                raise BatchError(f"Batch {bid} not found.")
            batch = await tx.fetchrow("batch_submit_context", bid)
            assert batch is not None  # locked above
            target = self._submit_target(batch)
            require_submittable(batch, BatchError)
            config_target = configuration_after_submit(batch, BatchError)
            jobs = await tx.fetch("batch_queue_jobs", bid)
            moved = await tx.fetchrow(
                "batch_mark_submitted",
                bid,
                batch["status"],
                target,
                batch["configuration_id"],
                batch["configuration_status"],
                config_target,
            )
            if moved is None:
                raise StaleStateError(f"Batch {bid} changed status while being submitted.")
        return {
            "batch_id": bid,
            "batch_status": moved["status"],
            "previous_status": batch["status"],
            "submitted_ts": plain(moved["submitted_ts"]),
            "configuration_status": str(config_target),
            "submitted_jobs": len(jobs),
            "jobs": shaped_rows(QueuedJob, jobs),
        }

    async def read_batch(self, batch_id: int) -> Batch:
        """One batch, with its job and job configuration counts."""
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        row = await self._db.fetchrow("batch_read", bid)
        if row is None:
            raise BatchError(f"Batch {bid} not found.")
        return shaped(Batch, row)

    async def list_batches(
        self, status: str | None = None, configuration_id: int | None = None
    ) -> list[BatchRow]:
        """Batches, optionally of one status and/or one configuration, oldest first."""
        wanted = validate.optional_choice("status", status, BATCH_STATUSES, BatchError)
        config_id = validate.optional_id("configuration_id", configuration_id, BatchError)
        return shaped_rows(BatchRow, await self._db.fetch("batch_list", wanted, config_id))

    async def get_batch_jobs(
        self, batch_id: int, skipped: bool | None = None, status: str | None = None
    ) -> list[BatchJob]:
        """The batch's jobs (narrow rows), optionally filtered by ``skipped`` and ``status``."""
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        skip = validate.optional_bool("skipped", skipped, BatchError)
        wanted = validate.optional_choice("status", status, JOB_STATUSES, BatchError)
        await self._require_batch(bid)
        return shaped_rows(BatchJob, await self._db.fetch("batch_jobs", bid, skip, wanted))

    async def get_batch_job_configurations(
        self, batch_id: int, skipped: bool | None = None
    ) -> list[JobConfiguration]:
        """The batch's job configurations (with data), optionally filtered by ``skipped``."""
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        skip = validate.optional_bool("skipped", skipped, BatchError)
        await self._require_batch(bid)
        rows = await self._db.fetch("batch_job_configurations", bid, skip)
        return shaped_rows(JobConfiguration, rows)

    async def _require_batch(self, batch_id: int) -> None:
        if not await self._db.fetchval("batch_exists", batch_id):
            raise BatchError(f"Batch {batch_id} not found.")

    @staticmethod
    def _require_batchable(config_id: int, configuration: Row) -> None:
        if configuration["status"] not in BATCHABLE_CONFIGURATION_STATUSES:
            raise BatchError(
                f"Configuration {config_id} is {configuration['status']}; batches can be "
                "created only from a VALID or ACTIVE configuration."
            )
        if configuration["cycle_status"] != "ACTIVE":
            raise BatchError(
                f"Configuration {config_id} belongs to an {configuration['cycle_status']} "
                "cycle; batches can be created only in the ACTIVE cycle."
            )

    @staticmethod
    def _submit_target(batch: Row) -> BatchStatus:
        current = BatchStatus(batch["status"])
        bid = batch["id"]
        if current in (BatchStatus.INITIATED, BatchStatus.COMPLETED):
            return batch_move(bid, current, "submit")
        if not batch["submittable_jobs"]:
            raise BatchError(
                f"Batch {bid} is {current} and has no INITIATED jobs to submit; "
                "resubmit or skip its jobs first."
            )
        if current is BatchStatus.ACTIVE:
            return current
        return batch_move(bid, current, "reactivate")

    def _transform(
        self, batch_type: str, config_id: int, configuration_data: dict[str, Any]
    ) -> list[dict[str, Any]]:
        try:
            produced = self._transformers.transform(batch_type, configuration_data)
        except BatchError:
            raise
        except Exception as failure:
            raise BatchError(
                f"Transformer '{batch_type}' failed on configuration {config_id}: "
                f"{type(failure).__name__}: {failure}"
            ) from failure
        if not isinstance(produced, list) or not produced:
            raise EmptyBatchError(
                f"Transformer '{batch_type}' produced no job configurations from "
                f"configuration {config_id}."
            )
        for index, item in enumerate(produced):
            validate.json_object(f"job configuration {index} of '{batch_type}'", item, BatchError)
        return produced
