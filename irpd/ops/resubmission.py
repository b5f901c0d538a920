"""Resubmission: a new job replaces a finished, failed or never-sent one (the original is
skipped, ``parent_job_id`` links them), optionally on an overriding job configuration."""

from __future__ import annotations

from typing import Any

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row, Tx
from irpd.errors import JobError, StaleStateError
from irpd.ops import validate
from irpd.ops.locking import (
    lock_batch_and_job,
    refuse_completed_batch,
    refuse_in_flight,
    refuse_skipped,
)
from irpd.ops.rows import plain_row


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
    """``resubmit_job``."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @conflicts_retried
    async def resubmit_job(
        self,
        job_id: int,
        job_configuration_data: dict[str, Any] | None = None,
        override_reason: str | None = None,
    ) -> dict[str, Any]:
        """Create a new INITIATED job replacing ``job_id`` (which is skipped); not queued.

        Without ``job_configuration_data`` the new job shares the job configuration. With it,
        a new configuration is created (``overridden``, ``override_reason_txt`` =
        ``override_reason``, which is then required) and the old one is skipped. Refused for
        in-flight jobs (cancel first), skipped jobs, and jobs of a COMPLETED batch.
        """
        jid = validate.positive_id("job_id", job_id, JobError)
        data = validate.optional_json_object(
            "job_configuration_data", job_configuration_data, JobError
        )
        if data is None and override_reason is not None:
            raise JobError("Invalid override_reason: only allowed with job_configuration_data.")
        reason = (
            None if data is None else validate.reason("override_reason", override_reason, JobError)
        )
        async with self._db.transaction() as tx:
            batch, job = await lock_batch_and_job(tx, jid)
            require_resubmittable(batch, job)
            created = await resubmit_locked(tx, job, data, reason)
        result = plain_row(created)
        result["override_reason_txt"] = reason
        return result
