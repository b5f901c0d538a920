"""Control commands → domain operations and engine notifications.

Each handler takes the validated ``args`` of one request (see :mod:`irpd.control.protocol`),
calls the operations of :class:`irpd.ops.facade.Operations`, tells the engine what changed,
and returns the operation's typed result (:mod:`irpd.ops.results`), which the protocol encodes
as it is. Every job-changing result names its ``batch_id`` (a key of its type, so mypy
checks it): the reconciler is woken for that batch. Errors are translated to
``{type, message}`` by :func:`translate_error`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from irpd.control import protocol
from irpd.control.plan_handlers import PlanCommands
from irpd.control.server import Handler
from irpd.db.database import DatabaseUnavailable
from irpd.db.failures import ConcurrencyConflict, DatabaseDegraded
from irpd.engine.engine import Engine
from irpd.errors import ConfigurationError, DomainError, IrpdError, JobError, RetryableError
from irpd.moodys.client import MoodysClient
from irpd.notify.admin import NotificationAdmin, NotificationError
from irpd.ops import listings
from irpd.ops.facade import Operations
from irpd.ops.results import ResubmittedFailed, ResubmittedJob
from statemachines.errors import IllegalTransition

#: a base64 workbook larger than this is refused before decoding
MAX_WORKBOOK_BYTES = 50 * 1024 * 1024


def translate_error(exc: BaseException) -> tuple[str, str, Any] | None:
    """``(type, message, details)`` for errors an operator should see; None for bugs."""
    if isinstance(exc, IllegalTransition):
        return ("JobError" if exc.entity == "Job" else "BatchError", str(exc), None)
    problems = getattr(exc, "problems", None)
    if isinstance(exc, DomainError):
        details = {"problems": problems} if problems else None
        return (exc.kind, str(exc), details)
    if isinstance(exc, DatabaseDegraded):
        return (exc.kind, f"{exc}; nothing was changed", {"sqlstate": exc.sqlstate})
    if isinstance(exc, ConcurrencyConflict):
        return (exc.kind, "concurrent changes conflicted; nothing was changed, try again", None)
    if isinstance(exc, DatabaseUnavailable):
        text = f"the database is unavailable ({exc.reason}); nothing was changed, try again"
        return (exc.kind, text, None)
    if isinstance(exc, (RetryableError, IrpdError)):
        return (exc.kind, str(exc), None)
    return None


def _workbook_bytes(args: Mapping[str, Any]) -> bytes:
    encoded = str(args["content_b64"])
    if len(encoded) > MAX_WORKBOOK_BYTES * 4 // 3 + 4:
        raise ConfigurationError(f"workbook larger than {MAX_WORKBOOK_BYTES} bytes")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("content_b64 is not valid base64") from None


class Handlers(PlanCommands):
    """The control commands bound to one daemon's operations, engine and client."""

    def __init__(
        self,
        ops: Operations,
        engine: Engine,
        moodys: MoodysClient,
        *,
        status: Callable[[], dict[str, Any]],
        batch_types: Callable[[], Mapping[str, str]] | None = None,
        notifications: NotificationAdmin | None = None,
    ) -> None:
        self.ops = ops
        self.engine = engine
        self.moodys = moodys
        self._status = status
        self._batch_types = batch_types
        self._notifications = notifications

    async def status(self, _a: dict[str, Any]) -> Any:
        result = self._status()
        try:
            result["jobs_by_status"] = await self.engine.store.job_counts()
        except DatabaseUnavailable:
            result["jobs_by_status"] = None
        return result

    async def ping(self, _a: dict[str, Any]) -> Any:
        return {"pong": True}

    async def types(self, _a: dict[str, Any]) -> Any:
        described = self._batch_types() if self._batch_types is not None else {}
        return {"types": [{"name": k, "description": v} for k, v in described.items()]}

    async def cycle_create(self, a: dict[str, Any]) -> Any:
        return await self.ops.cycles.create_cycle(a["name"])

    async def cycle_archive(self, a: dict[str, Any]) -> Any:
        return await self.ops.cycles.archive_cycle(a["name"])

    async def cycle_list(self, a: dict[str, Any]) -> Any:
        page = await listings.cycles(self.ops.db, status=a.get("status"), **_paging(a))
        return page.as_result("cycles")

    async def config_load(self, a: dict[str, Any]) -> Any:
        content = _workbook_bytes(a)
        return await self.ops.configurations.load_configuration(
            a["cycle"], content, register=not a.get("dry_run", False), file_name=a["filename"]
        )

    async def config_show(self, a: dict[str, Any]) -> Any:
        return await self.ops.configurations.read_configuration(a["configuration_id"])

    async def config_list(self, a: dict[str, Any]) -> Any:
        page = await listings.configurations(self.ops.db, cycle=a.get("cycle"), **_paging(a))
        return page.as_result("configurations")

    async def batch_create(self, a: dict[str, Any]) -> Any:
        return await self.ops.batches.create_batch(
            a["batch_type"],
            a["configuration_id"],
            a.get("step_id"),
            allow_duplicate=a.get("allow_duplicate"),
        )

    async def batch_submit(self, a: dict[str, Any]) -> Any:
        checked = await self.preflight(a["batch_id"], dry_run=a.get("dry_run", False))
        if a.get("dry_run"):
            return checked
        result = await self.ops.batches.submit_batch(a["batch_id"])
        self.engine.work_queued()
        self.engine.batch_changed([result["batch_id"]])
        return {**result, "preflight": checked}

    async def batch_recon(self, a: dict[str, Any]) -> Any:
        return await self.ops.recon.recon_batch(a["batch_id"])

    async def batch_show(self, a: dict[str, Any]) -> Any:
        batch = await self.ops.batches.read_batch(a["batch_id"])
        return {**batch, "report": await self.ops.reports.batch_report(a["batch_id"])}

    async def batch_list(self, a: dict[str, Any]) -> Any:
        page = await listings.batches(self.ops.db, status=a.get("status"), **_paging(a))
        return page.as_result("batches")

    async def batch_jobs(self, a: dict[str, Any]) -> Any:
        page = await listings.batch_jobs(
            self.ops.db,
            a["batch_id"],
            skipped=a.get("skipped"),
            status=a.get("status"),
            **_paging(a),
        )
        return page.as_result("jobs")

    async def batch_configs(self, a: dict[str, Any]) -> Any:
        page = await listings.batch_job_configurations(
            self.ops.db, a["batch_id"], skipped=a.get("skipped"), **_paging(a)
        )
        return page.as_result("job_configurations")

    async def report_batches(self, a: dict[str, Any]) -> Any:
        page = await listings.batch_reports(
            self.ops.db,
            status=a.get("status"),
            next_action=a.get("next_action"),
            cycle_id=a.get("cycle_id"),
            **_paging(a),
        )
        return page.as_result("batches")

    async def report_jobs(self, a: dict[str, Any]) -> Any:
        page = await listings.job_reports(
            self.ops.db,
            a["batch_id"],
            next_action=a.get("next_action"),
            status=a.get("status"),
            **_paging(a),
        )
        return page.as_result("jobs")

    async def job_tracking(self, a: dict[str, Any]) -> Any:
        page = await listings.job_tracking(self.ops.db, a["job_id"], **_paging(a))
        return page.as_result("tracking_log")

    async def job_show(self, a: dict[str, Any]) -> Any:
        return await self.ops.tracking.job_history(a["job_id"])

    async def job_submit(self, a: dict[str, Any]) -> Any:
        result = await self.ops.jobs.submit_job(a["job_id"], a.get("force", False))
        self.engine.work_queued()
        self.engine.batch_changed([result["batch_id"]])
        return result

    async def job_track(self, a: dict[str, Any]) -> Any:
        job = await self.ops.jobs.read_job(a["job_id"])
        workflow_id = job.get("moodys_workflow_id")
        if not workflow_id:
            raise JobError(
                f"Job {job['id']} has no Moody's workflow yet (status {job['status']}); "
                "nothing to track"
            )
        answers = await self.moodys.get_workflows([str(workflow_id)])
        answer = answers.get(str(workflow_id))
        if answer is None:
            raise JobError(f"Moody's did not return workflow {workflow_id} of job {job['id']}")
        data = {
            "status": answer.status,
            "progress": answer.progress,
            "messages": list(answer.messages),
        }
        result = await self.ops.tracking.apply_status_fact(
            job["id"], answer.status, data, source="moodys", progress=answer.progress
        )
        self.engine.tracker.resync_soon()
        self.engine.batch_changed([result["batch_id"]])
        return result

    async def job_resubmit(self, a: dict[str, Any]) -> Any:
        result = await self.ops.resubmissions.resubmit_job(
            a["job_id"],
            a.get("override"),
            a.get("reason"),
            replace=a.get("replace", False),
            queue=not a.get("hold", False),
        )
        self._resubmitted(result)
        return result

    async def batch_resubmit_failed(self, a: dict[str, Any]) -> Any:
        result = await self.ops.resubmissions.resubmit_failed(
            a["batch_id"], a.get("override"), a.get("reason"), queue=not a.get("hold", False)
        )
        self._resubmitted(result)
        return result

    def _resubmitted(self, result: ResubmittedJob | ResubmittedFailed) -> None:
        if result["queued"]:
            self.engine.work_queued()
        self.engine.batch_changed([result["batch_id"]])

    async def job_skip(self, a: dict[str, Any]) -> Any:
        result = await self.ops.jobs.skip_job(a["job_id"], a["reason"])
        self.engine.batch_changed([result["batch_id"]])
        return result

    async def job_cancel(self, a: dict[str, Any]) -> Any:
        result = await self.ops.jobs.cancel_job(a["job_id"])
        self.engine.cancel_requested()
        self.engine.batch_changed([result["batch_id"]])
        return result

    async def job_force_ok(self, a: dict[str, Any]) -> Any:
        result = await self.ops.jobs.force_ok_job(a["job_id"], a["reason"])
        self.engine.batch_changed([result["batch_id"]])
        return result

    async def notifications_list(self, a: dict[str, Any]) -> Any:
        return await self._outbox().list(a.get("status"), a.get("limit"))

    async def notifications_resend(self, a: dict[str, Any]) -> Any:
        return await self._outbox().resend(a["message_id"])

    def _outbox(self) -> NotificationAdmin:
        if self._notifications is None:
            raise NotificationError("This daemon has no notification outbox.")
        return self._notifications

    def as_mapping(self) -> dict[str, Handler]:
        """Command name → handler (``batch.show`` → :meth:`batch_show`), for the server."""
        return {name: getattr(self, name.replace(".", "_")) for name in protocol.COMMANDS}


def _paging(args: Mapping[str, Any]) -> dict[str, Any]:
    return {"limit": args.get("limit"), "after": args.get("after")}

