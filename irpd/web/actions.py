"""What the console and the HTTP API may change: the same operations (:mod:`irpd.ops`), the
same state machines and the same argument validation as the control socket
(:func:`irpd.control.protocol.check_args`), run as the acting user and recorded in
``irp_web_action_log`` whether allowed or refused.

The daemon learns of these changes without a message from this process: its dispatcher and
canceller look for queued submissions and requested cancels every
``engine.dispatch_idle_interval`` (1 s) when idle; the reconciler is woken by the jobs it
tracks settling, and for actions that settle a batch without the daemon (skip, force-OK,
cancel of a job not yet submitted) this process reconciles the batch itself with the same
``recon_batch`` operation (``irpctl batch recon``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog

from irpd.control import protocol
from irpd.control.handlers import translate_error
from irpd.control.protocol import Arg, Command
from irpd.db.acting import acting_as
from irpd.db.database import Database, DatabaseUnavailable
from irpd.errors import ConfigurationError, IrpdError
from irpd.ops.facade import Operations
from irpd.ops.results import JobMoved, SkippedJob
from irpd.web.auth import Identity

log = structlog.get_logger("irpd.web")

#: a workbook larger than this is refused before decoding (as on the control socket)
MAX_WORKBOOK_BYTES = 50 * 1024 * 1024

_C = protocol.COMMANDS
#: the actions: control-socket commands where one exists, with the same argument rules
ACTIONS: Mapping[str, Command] = {
    "cycle.create": _C["cycle.create"],
    "config.load": _C["config.load"],
    "batch.create": _C["batch.create"],
    # without ``dry_run``: the console holds no Moody's client, so it runs no pre-flight, and
    # a dry run it accepted would have submitted the batch for real
    "batch.submit": Command("batch.submit", (Arg("batch_id", "id"),), "queue a batch's jobs"),
    "batch.recon": _C["batch.recon"],
    "job.create": Command(
        "job.create",
        (
            Arg("batch_id", "id"),
            Arg("configuration_id", "id"),
            Arg("job_configuration_id", "id", required=False),
            Arg("job_configuration_data", "object", required=False),
        ),
        "add a job to a batch",
    ),
    "job.submit": _C["job.submit"],
    "job.resubmit": Command(
        "job.resubmit",
        (*(x for x in _C["job.resubmit"].args if x.name != "hold"), Arg("submit", "bool", False)),
        "resubmit a job (and queue the new one when submit is true)",
    ),
    "job.skip": _C["job.skip"],
    "job.cancel": Command(
        "job.cancel", (Arg("job_id", "id"), Arg("reason", "str", required=False)), "cancel a job"
    ),
    "job.force_ok": _C["job.force_ok"],
}


class Forbidden(IrpdError):
    """The user may not do this (a viewer acting, a missing CSRF token)."""

    kind = "PermissionDenied"


@dataclass(frozen=True, slots=True)
class Refusal:
    """An error as the control socket reports it."""

    type: str
    message: str
    details: Any = None

    def as_json(self) -> dict[str, Any]:
        """``{type, message[, details]}``"""
        body: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.details is not None:
            body["details"] = self.details
        return body


def refusal(exc: BaseException) -> Refusal | None:
    """The operator-facing form of an error, as the control socket translates it
    (:func:`irpd.control.handlers.translate_error`); None for bugs."""
    if isinstance(exc, protocol.ProtocolError):
        return Refusal("ProtocolError", str(exc))
    translated = translate_error(exc)
    return Refusal(*translated) if translated is not None else None


def _workbook(args: Mapping[str, Any]) -> bytes:
    encoded = str(args["content_b64"])
    if len(encoded) > MAX_WORKBOOK_BYTES * 4 // 3 + 4:
        raise ConfigurationError(f"workbook larger than {MAX_WORKBOOK_BYTES} bytes")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError("content_b64 is not valid base64") from None


def _target(name: str, args: Mapping[str, Any]) -> tuple[str, int | None]:
    for key, kind in (("job_id", "job"), ("batch_id", "batch"), ("configuration_id", "config")):
        if isinstance(args.get(key), int):
            return kind, int(args[key])
    return name.split(".", maxsplit=1)[0], None


class Actions:
    """Runs actions for a user: validate, check the role, call the operation, record it."""

    def __init__(self, ops: Operations, db: Database) -> None:
        self.ops = ops
        self._db = db
        run: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "cycle.create": lambda a: ops.cycles.create_cycle(a["name"]),
            "config.load": lambda a: ops.configurations.load_configuration(
                a["cycle"],
                _workbook(a),
                register=not a.get("dry_run", False),
                file_name=a["filename"],
            ),
            "batch.create": lambda a: ops.batches.create_batch(
                a["batch_type"],
                a["configuration_id"],
                a.get("step_id"),
                allow_duplicate=a.get("allow_duplicate"),
            ),
            "batch.submit": lambda a: ops.batches.submit_batch(a["batch_id"]),
            "batch.recon": lambda a: ops.recon.recon_batch(a["batch_id"]),
            "job.create": lambda a: ops.jobs.create_job(
                a["batch_id"],
                a["configuration_id"],
                a.get("job_configuration_id"),
                a.get("job_configuration_data"),
            ),
            "job.submit": lambda a: ops.jobs.submit_job(a["job_id"], a.get("force", False)),
            "job.resubmit": self._resubmit,
            "job.skip": lambda a: self._settling(ops.jobs.skip_job(a["job_id"], a["reason"])),
            "job.cancel": lambda a: self._settling(
                ops.jobs.cancel_job(a["job_id"], a.get("reason"))
            ),
            "job.force_ok": lambda a: self._settling(
                ops.jobs.force_ok_job(a["job_id"], a["reason"])
            ),
        }
        self._run = run

    async def _resubmit(self, a: dict[str, Any]) -> Any:
        result = await self.ops.resubmissions.resubmit_job(
            a["job_id"], a.get("override"), a.get("reason"), replace=a.get("replace", False)
        )
        if a.get("submit"):
            return {**result, "submitted": await self.ops.jobs.submit_job(result["job_id"])}
        return result

    async def _settling(self, running: Awaitable[JobMoved | SkippedJob]) -> dict[str, Any]:
        """The job command's result with its batch's status once reconciled."""
        result = await running
        recon = await self.ops.recon.recon_batch(result["batch_id"], only_on_change=True)
        return {**result, "batch_status": recon["status"]}

    async def run(self, identity: Identity, name: str, raw_args: Any) -> Any:
        """Run action ``name``; raises :class:`Forbidden`, ``ProtocolError`` or the domain's
        error (recorded as refused) — nothing is written when it raises."""
        command = ACTIONS.get(name)
        if command is None:
            raise protocol.ProtocolError(f"unknown command {name!r}")
        args = protocol.check_args(command, raw_args)
        target_type, target_id = _target(name, args)
        shown = {k: v for k, v in args.items() if k not in ("content_b64", "reason")}
        reason = args.get("reason")
        try:
            if not identity.can_act:
                raise Forbidden(f"{identity.user} is a viewer; only operators may {name}")
            with acting_as(identity.user):
                result = await self._run[name](args)
        except BaseException as exc:
            found = refusal(exc)
            if found is not None and not isinstance(exc, DatabaseUnavailable):
                await self._record(identity, name, target_type, target_id, reason, shown, found)
            log.info(
                "web_action_refused",
                user=identity.user,
                action=name,
                target_id=target_id,
                error_type=found.type if found else type(exc).__name__,
            )
            raise
        await self._record(identity, name, target_type, target_id, reason, shown, None, result)
        log.info("web_action", user=identity.user, action=name, target_id=target_id)
        return result

    async def _record(
        self,
        identity: Identity,
        name: str,
        target_type: str,
        target_id: int | None,
        reason: Any,
        args: Mapping[str, Any],
        refused: Refusal | None,
        result: Any = None,
    ) -> None:
        try:
            await self._db.fetchval(
                "web_action_log_insert",
                identity.user,
                identity.role,
                name,
                target_type,
                target_id,
                str(reason)[:1000] if reason is not None else None,
                dict(args),
                "refused" if refused else "ok",
                refused.type if refused else None,
                refused.message if refused else None,
                result if isinstance(result, dict) else None,
            )
        except DatabaseUnavailable:
            log.warning("web_action_unrecorded", user=identity.user, action=name)
