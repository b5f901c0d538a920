"""Operator reports from the ``irp_batch_report`` / ``irp_job_report`` views (migration 0002)."""

from __future__ import annotations

from typing import Final

from irpd.db.database import Database
from irpd.errors import BatchError, JobError
from irpd.ops import validate
from irpd.ops.batches import BATCH_STATUSES, JOB_STATUSES
from irpd.ops.results import BatchReport, JobReport, shaped, shaped_rows

BATCH_NEXT_ACTIONS: Final = (
    "SUBMIT",
    "TRACK",
    "RECONCILE",
    "REVIEW_FAILURES",
    "RESUBMIT_OR_SKIP",
    "PROCEED",
)
JOB_NEXT_ACTIONS: Final = ("SUBMIT", "WAIT", "TRACK", "RESUBMIT_OR_SKIP", "NONE")


class Reports:
    """Batch and job reports: status, progress and the operator's next action."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def batch_report(self, batch_id: int) -> BatchReport:
        """One batch's report row."""
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        row = await self._db.fetchrow("report_batch", bid)
        if row is None:
            raise BatchError(f"Batch {bid} not found.")
        return shaped(BatchReport, row)

    async def batch_reports(
        self,
        status: str | None = None,
        next_action: str | None = None,
        cycle_id: int | None = None,
    ) -> list[BatchReport]:
        """Report rows of every batch, optionally filtered."""
        wanted = validate.optional_choice("status", status, BATCH_STATUSES, BatchError)
        action = validate.optional_choice(
            "next_action", next_action, BATCH_NEXT_ACTIONS, BatchError
        )
        cycle = validate.optional_id("cycle_id", cycle_id, BatchError)
        rows = await self._db.fetch("report_batches", wanted, action, cycle)
        return shaped_rows(BatchReport, rows)

    async def job_report(self, job_id: int) -> JobReport:
        """One job's report row."""
        jid = validate.positive_id("job_id", job_id, JobError)
        row = await self._db.fetchrow("report_job", jid)
        if row is None:
            raise JobError(f"Job {jid} not found.")
        return shaped(JobReport, row)

    async def job_reports(
        self, batch_id: int, next_action: str | None = None, status: str | None = None
    ) -> list[JobReport]:
        """Report rows of a batch's jobs, optionally by next action and/or status."""
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        action = validate.optional_choice("next_action", next_action, JOB_NEXT_ACTIONS, BatchError)
        wanted = validate.optional_choice("status", status, JOB_STATUSES, BatchError)
        rows = await self._db.fetch("report_batch_jobs", bid, action, wanted)
        return shaped_rows(JobReport, rows)
