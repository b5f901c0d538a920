"""Resubmission: a new job replaces a finished, failed or never-sent one (the original is
skipped, ``parent_job_id`` links them), optionally on an overriding job configuration."""

from __future__ import annotations

from typing import Any

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row, Tx
from irpd.errors import BatchError, JobError, StaleStateError
from irpd.ops import overrides, validate
from irpd.ops.locking import (
    lock_batch_and_job,
    refuse_completed_batch,
    refuse_in_flight,
    refuse_skipped,
)
from irpd.ops.ports import TransformerRegistry
from irpd.ops.queueing import queue_locked
from irpd.ops.results import Replacement, ResubmittedFailed, ResubmittedJob, shaped


def require_resubmittable(batch: Row, job: Row) -> None:
    """Resubmission is for terminal and INITIATED jobs that are not skipped, in a batch that
    is not COMPLETED."""
    refuse_skipped(job, "resubmit")
    refuse_in_flight(job, "resubmit")
    refuse_completed_batch(batch, job["id"], "resubmit")


async def resubmit_locked(
    tx: Tx,
    job: Row,
    override_data: dict[str, Any] | None,
    override_reason: str | None,
    source: str = "operator",
) -> Row:
    """Replace ``job`` (locked, checked by :func:`require_resubmittable`) by a new INITIATED
    job; returns the new job's row. With ``override_data``, on a new overriding job
    configuration (the old one is skipped and points at it)."""
    configuration = await tx.fetchrow("job_configuration_lock", job["job_configuration_id"])
    assert configuration is not None  # FK
    if configuration["skipped"]:
        replacement = configuration["override_job_configuration_id"]
        hint = f" (overridden by job configuration {replacement})" if replacement else ""
        raise JobError(
            f"Job configuration {configuration['id']} of job {job['id']} is skipped{hint}; "
            "cannot resubmit a job on it."
        )
    if override_data is None:
        row = await tx.fetchrow("job_resubmit_same_configuration", job["id"], job["status"], source)
    else:
        row = await tx.fetchrow(
            "job_resubmit_with_override",
            job["id"],
            job["status"],
            override_data,
            override_reason,
            source,
        )
    if row is None:
        raise StaleStateError(f"Job {job['id']} changed while being resubmitted.")
    return row


class Resubmissions:
    """``resubmit_job`` and ``resubmit_failed``."""

    def __init__(self, db: Database, transformers: TransformerRegistry) -> None:
        self._db = db
        self._transformers = transformers

    @conflicts_retried
    async def resubmit_job(
        self,
        job_id: int,
        job_configuration_data: dict[str, Any] | None = None,
        override_reason: str | None = None,
        *,
        replace: bool = False,
        queue: bool = False,
    ) -> ResubmittedJob:
        """Create a new job replacing ``job_id`` (which is skipped); INITIATED, or queued for
        submission with ``queue`` (its batch ACTIVE, as :meth:`Jobs.submit_job` does).

        Without ``job_configuration_data`` the new job shares the job configuration. With it,
        the override: the changed parameters, merged onto the job's configuration (a key set
        to ``None`` is removed; see :mod:`irpd.ops.overrides`), or with ``replace`` the whole
        new configuration. The result must pass the batch type's checks (every bad key is
        named, :class:`OverrideRejectedError`) and change something; it is stored as a new
        configuration (``overridden``, ``override_reason_txt`` = ``override_reason``, then
        required) and the old one is skipped. Refused for in-flight jobs (cancel first),
        skipped jobs, and jobs of a COMPLETED batch.
        """
        jid = validate.positive_id("job_id", job_id, JobError)
        edits, reason = _override_arguments(job_configuration_data, override_reason, replace)
        queue_it = _flag("queue", queue)
        async with self._db.transaction() as tx:
            batch, job = await lock_batch_and_job(tx, jid)
            require_resubmittable(batch, job)
            data = None if edits is None else await self._override(tx, jid, edits, replace)
            created = await resubmit_locked(tx, job, data, reason)
            status = None
            if queue_it:
                _, moved = await queue_locked(tx, batch, [created["job_id"]])
                status = moved["status"]
        result = shaped(
            ResubmittedJob, {**created, "override_reason_txt": reason, "queued": queue_it}
        )
        if status is not None:
            result["batch_status"] = status
        return result

    @conflicts_retried
    async def resubmit_failed(
        self,
        batch_id: int,
        job_configuration_data: dict[str, Any] | None = None,
        override_reason: str | None = None,
        *,
        queue: bool = True,
    ) -> ResubmittedFailed:
        """Resubmit every FAILED and ERROR job of a batch that is not skipped, each as
        :meth:`resubmit_job` would (the same override merged onto each job's configuration),
        in one transaction: all or nothing. Queued for submission unless ``queue`` is false.
        Returns ``{batch_id, batch_status, resubmitted, queued, jobs: [{job_id, new_job_id}]}``."""
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        edits, reason = _override_arguments(job_configuration_data, override_reason, False)
        queue_it = _flag("queue", queue)
        pairs: list[Replacement] = []
        async with self._db.transaction() as tx:
            if await tx.fetchrow("batch_lock", bid) is None:
                raise BatchError(f"Batch {bid} not found.")
            failed = [row["id"] for row in await tx.fetch("override_failed_jobs", bid)]
            if not failed:
                raise BatchError(f"Batch {bid} has no FAILED or ERROR jobs to resubmit.")
            batch = await tx.fetchrow("job_batch_context", bid)
            assert batch is not None  # locked above
            for old_id in failed:
                _, job = await lock_batch_and_job(tx, old_id)
                require_resubmittable(batch, job)
                data = None if edits is None else await self._override(tx, old_id, edits, False)
                created = await resubmit_locked(tx, job, data, reason)
                pairs.append({"job_id": old_id, "new_job_id": created["job_id"]})
            status = batch["status"]
            if queue_it:
                _, moved = await queue_locked(tx, batch, [p["new_job_id"] for p in pairs])
                status = moved["status"]
        return {
            "batch_id": bid,
            "batch_status": status,
            "resubmitted": len(pairs),
            "queued": len(pairs) if queue_it else 0,
            "override_reason_txt": reason,
            "jobs": pairs,
        }

    async def _override(
        self, tx: Tx, job_id: int, edits: dict[str, Any], replace: bool
    ) -> dict[str, Any]:
        """The new job configuration of ``job_id``: checked by its batch type's rules."""
        context = await tx.fetchrow("override_context", job_id)
        assert context is not None  # the job is locked
        parent = context["job_configuration_data"]
        data = overrides.edited(parent, edits, replace=replace)
        problems = overrides.fixed_key_problems(parent, data)
        fixed = {p["key"] for p in problems}
        checked = self._transformers.check(
            context["batch_type"], data, context["configuration_data"]
        )
        problems += [p for p in checked if p["key"] not in fixed]
        if problems:
            raise overrides.OverrideRejectedError(problems, job_id)
        return data


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise JobError(f"Invalid {name}: {validate.shown(value)}. Must be true or false.")
    return value


def _override_arguments(
    data: object, reason: object, replace: object
) -> tuple[dict[str, Any] | None, str | None]:
    """The validated edits and reason (a reason only with edits, and then required)."""
    edits = validate.optional_json_object("job_configuration_data", data, JobError)
    if _flag("replace", replace) and edits is None:
        raise JobError("Invalid replace: only allowed with job_configuration_data.")
    if edits is None:
        if reason is not None:
            raise JobError("Invalid override_reason: only allowed with job_configuration_data.")
        return None, None
    overrides.check_edit_keys(edits)
    return edits, validate.reason("override_reason", reason, JobError)
