"""``Operations``: the one async API of irpd's domain, used by the daemon, the control socket
and the tests. Every method validates its arguments before touching the database, refuses
with ``CycleError`` / ``ConfigurationError`` / ``BatchError`` / ``JobError`` (nothing
written), and returns JSON-able dicts/lists (timestamps as ISO-8601 strings).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from irpd.db.database import Database
from irpd.ops.batches import Batches
from irpd.ops.configurations import Configurations
from irpd.ops.cycles import CycleRef, Cycles
from irpd.ops.jobs import Jobs
from irpd.ops.plans import CyclePlans
from irpd.ops.ports import TransformerRegistry, WorkbookLoader
from irpd.ops.recon import Recon
from irpd.ops.reports import Reports
from irpd.ops.resubmission import Resubmissions
from irpd.ops.tracking import DEFAULT_HISTORY_ROWS, Tracking
from irpd.ops.withdrawal import Withdrawals


class Operations:
    """The domain operations over one :class:`Database` (see the module docstring).

    ``transformers`` (batch types) and ``load_workbook`` (the Excel loader) are injected by
    the composition root; tests may inject their own.
    """

    def __init__(
        self, db: Database, transformers: TransformerRegistry, load_workbook: WorkbookLoader
    ) -> None:
        #: the database, for the paged listings of :mod:`irpd.ops.listings`
        self.db = db
        self.cycles = Cycles(db)
        self.configurations = Configurations(db, load_workbook)
        self.batches = Batches(db, transformers)
        self.recon = Recon(db)
        self.jobs = Jobs(db)
        self.resubmissions = Resubmissions(db, transformers)
        self.tracking = Tracking(db)
        self.reports = Reports(db)
        self.withdrawals = Withdrawals(db, self.jobs)
        self.plans = CyclePlans(db, transformers)

    # --- cycles ---------------------------------------------------------------------------
    async def create_cycle(self, cycle_name: str) -> dict[str, Any]:
        """Create the ACTIVE cycle (the previous one is archived). :meth:`Cycles.create_cycle`"""
        return await self.cycles.create_cycle(cycle_name)

    async def archive_cycle(self, cycle: CycleRef) -> dict[str, Any]:
        """Archive the ACTIVE cycle. :meth:`Cycles.archive_cycle`"""
        return await self.cycles.archive_cycle(cycle)

    async def read_cycle(self, cycle: CycleRef) -> dict[str, Any]:
        """One cycle by id or name."""
        return await self.cycles.read_cycle(cycle)

    async def active_cycle(self) -> dict[str, Any] | None:
        """The ACTIVE cycle or ``None``."""
        return await self.cycles.active_cycle()

    async def list_cycles(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every cycle, optionally of one status."""
        return await self.cycles.list_cycles(status)

    # --- configurations -------------------------------------------------------------------
    async def load_configuration(
        self,
        cycle: CycleRef,
        source: Path | str | bytes,
        *,
        register: bool = True,
        file_name: str | None = None,
    ) -> dict[str, Any]:
        """Validate (and register) a workbook. :meth:`Configurations.load_configuration`"""
        return await self.configurations.load_configuration(
            cycle, source, register=register, file_name=file_name
        )

    async def read_configuration(self, configuration_id: int) -> dict[str, Any]:
        """One configuration with its data."""
        return await self.configurations.read_configuration(configuration_id)

    async def list_configurations(
        self, cycle: CycleRef | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Configurations without their data."""
        return await self.configurations.list_configurations(cycle, status)

    # --- batches --------------------------------------------------------------------------
    async def create_batch(
        self,
        batch_type: str,
        configuration_id: int,
        step_id: int | None = None,
        *,
        allow_duplicate: str | None = None,
        step_run_id: int | None = None,
    ) -> dict[str, Any]:
        """Batch + job configurations + jobs; one live batch per (configuration, type)
        unless ``allow_duplicate`` gives a reason. :meth:`Batches.create_batch`"""
        return await self.batches.create_batch(
            batch_type,
            configuration_id,
            step_id,
            allow_duplicate=allow_duplicate,
            step_run_id=step_run_id,
        )

    async def cancel_batch(
        self, batch_id: int, reason: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Cancel every unfinished job of a batch. :meth:`Withdrawals.cancel_batch`"""
        return await self.withdrawals.cancel_batch(batch_id, reason, actor)

    async def delete_batch(
        self, batch_id: int, reason: str, actor: str | None = None
    ) -> dict[str, Any]:
        """Delete a never-submitted batch. :meth:`Withdrawals.delete_batch`"""
        return await self.withdrawals.delete_batch(batch_id, reason, actor)

    async def submit_batch(self, batch_id: int) -> dict[str, Any]:
        """Queue the batch's jobs; batch and configuration ACTIVE. :meth:`Batches.submit_batch`"""
        return await self.batches.submit_batch(batch_id)

    async def recon_batch(self, batch_id: int, *, only_on_change: bool = False) -> dict[str, Any]:
        """Reconcile the batch from its jobs. :meth:`Recon.recon_batch`"""
        return await self.recon.recon_batch(batch_id, only_on_change=only_on_change)

    async def read_batch(self, batch_id: int) -> dict[str, Any]:
        """One batch."""
        return await self.batches.read_batch(batch_id)

    async def list_batches(
        self, status: str | None = None, configuration_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Batches, optionally filtered."""
        return await self.batches.list_batches(status, configuration_id)

    async def get_batch_jobs(
        self, batch_id: int, skipped: bool | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """A batch's jobs, filtered by ``skipped`` / ``status``."""
        return await self.batches.get_batch_jobs(batch_id, skipped, status)

    async def get_batch_job_configurations(
        self, batch_id: int, skipped: bool | None = None
    ) -> list[dict[str, Any]]:
        """A batch's job configurations, filtered by ``skipped``."""
        return await self.batches.get_batch_job_configurations(batch_id, skipped)

    # --- jobs -----------------------------------------------------------------------------
    async def create_job(
        self,
        batch_id: int,
        configuration_id: int,
        job_configuration_id: int | None = None,
        job_configuration_data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A new job on a new or existing job configuration. :meth:`Jobs.create_job`"""
        return await self.jobs.create_job(
            batch_id, configuration_id, job_configuration_id, job_configuration_data
        )

    async def read_job(self, job_id: int) -> dict[str, Any]:
        """One job."""
        return await self.jobs.read_job(job_id)

    async def get_job_config(self, job_id: int) -> dict[str, Any]:
        """The job's job configuration."""
        return await self.jobs.get_job_config(job_id)

    async def skip_job(self, job_id: int, reason: str) -> dict[str, Any]:
        """Skip a job with a reason. :meth:`Jobs.skip_job`"""
        return await self.jobs.skip_job(job_id, reason)

    async def resubmit_job(
        self,
        job_id: int,
        job_configuration_data: dict[str, Any] | None = None,
        override_reason: str | None = None,
        *,
        replace: bool = False,
        queue: bool = False,
    ) -> dict[str, Any]:
        """Replace a job by a new one, optionally on an override (the changed parameters,
        merged and checked) and queued. :meth:`Resubmissions.resubmit_job`"""
        return await self.resubmissions.resubmit_job(
            job_id, job_configuration_data, override_reason, replace=replace, queue=queue
        )

    async def resubmit_failed(
        self,
        batch_id: int,
        job_configuration_data: dict[str, Any] | None = None,
        override_reason: str | None = None,
        *,
        queue: bool = True,
    ) -> dict[str, Any]:
        """Resubmit every FAILED/ERROR job of a batch. :meth:`Resubmissions.resubmit_failed`"""
        return await self.resubmissions.resubmit_failed(
            batch_id, job_configuration_data, override_reason, queue=queue
        )

    async def submit_job(self, job_id: int, force: bool = False) -> dict[str, Any]:
        """Queue one job for submission. :meth:`Jobs.submit_job`"""
        return await self.jobs.submit_job(job_id, force)

    async def cancel_job(self, job_id: int, reason: str | None = None) -> dict[str, Any]:
        """Cancel (INITIATED) or request a cancel (in flight). :meth:`Jobs.cancel_job`"""
        return await self.jobs.cancel_job(job_id, reason)

    async def force_ok_job(self, job_id: int, reason: str) -> dict[str, Any]:
        """Declare a job done with a reason. :meth:`Jobs.force_ok_job`"""
        return await self.jobs.force_ok_job(job_id, reason)

    async def apply_status_fact(
        self,
        job_id: int,
        reported_status: str,
        tracking_data: dict[str, Any] | None = None,
        *,
        source: str = "moodys",
        progress: int | None = None,
    ) -> dict[str, Any]:
        """Apply one reported status (every poll logged). :meth:`Tracking.apply_status_fact`"""
        return await self.tracking.apply_status_fact(
            job_id, reported_status, tracking_data, source=source, progress=progress
        )

    async def job_history(
        self, job_id: int, tracking_rows: int = DEFAULT_HISTORY_ROWS
    ) -> dict[str, Any]:
        """Job, configuration, tracking log and resubmission chain. :meth:`Tracking.job_history`"""
        return await self.tracking.job_history(job_id, tracking_rows)

    # --- reports --------------------------------------------------------------------------
    async def batch_report(self, batch_id: int) -> dict[str, Any]:
        """One ``irp_batch_report`` row."""
        return await self.reports.batch_report(batch_id)

    async def batch_reports(
        self, status: str | None = None, next_action: str | None = None, cycle_id: int | None = None
    ) -> list[dict[str, Any]]:
        """``irp_batch_report`` rows, filtered."""
        return await self.reports.batch_reports(status, next_action, cycle_id)

    async def job_report(self, job_id: int) -> dict[str, Any]:
        """One ``irp_job_report`` row."""
        return await self.reports.job_report(job_id)

    async def job_reports(
        self, batch_id: int, next_action: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """``irp_job_report`` rows of a batch, filtered."""
        return await self.reports.job_reports(batch_id, next_action, status)
