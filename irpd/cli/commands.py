"""irpctl's commands: each sends control requests and renders the answer (views.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from irpd.cli import views, waiting
from irpd.cli.edits import override_of
from irpd.cli.paging import all_rows, listing
from irpd.cli.render import colour_enabled, escape, width_for
from irpd.cli.views import BATCH_COLUMNS, JOB_COLUMNS, View, rows_of
from irpd.control.client import ControlClient

CONFIG_COLUMNS = (
    "id",
    "skipped",
    "overridden",
    "override_reason_txt",
    "parent_job_configuration_id",
)
TRACKING_COLUMNS = ("id", "tracked_ts", "source", "previous_status", "job_status", "tracking_data")

#: exit codes (docs/control.md): the daemon refused / a waited-for batch failed, usage,
#: unreachable or a wait ran out, the waited-for batch needs an operator
EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_NEEDS_OPERATOR = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a command ended."""

    exit_code: int = 0


class Session:
    """A connection plus output preferences."""

    def __init__(self, client: ControlClient, *, json_output: bool) -> None:
        self.client = client
        self.json = json_output
        self.view = View(width=width_for(sys.stdout), colour=colour_enabled(sys.stdout))

    def call(self, command: str, **args: Any) -> Any:
        """Send a command (``None`` arguments are left out)."""
        return self.client.call(command, {k: v for k, v in args.items() if v is not None})

    def emit(self, result: Any, human: Callable[[Any], str]) -> None:
        """Print ``result`` as JSON (--json) or through ``human``."""
        print(dumps(result) if self.json else human(result))

    def show(self, result: Any, view: Callable[[Any, View], str]) -> None:
        """Print ``result`` as JSON (--json) or through ``view`` (a function of views.py)."""
        print(dumps(result) if self.json else view(result, self.view))

    def rows(self, command: str, key: str, **args: Any) -> list[Any]:
        """Every row of a paged listing."""
        return list(all_rows(self, command, key, **args))

    def progress(self) -> waiting.Progress:
        """Progress on stderr: always on a terminal; otherwise only without --json."""
        return waiting.Progress(sys.stderr, enabled=not self.json or sys.stderr.isatty())


def dumps(result: Any) -> str:
    """The documented machine output: indented JSON."""
    return json.dumps(result, indent=2, default=str, ensure_ascii=False)


Command = Callable[[Session, argparse.Namespace, dict[str, Any]], Outcome]


def _id_of(result: Any, _view: View) -> str:
    return str(result.get("batch_id", result.get("id")))


def _block(result: Any, view: View) -> str:
    return view.block(result)


def status(s: Session, _a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    result = s.call("status")
    s.show(result, views.status)
    # still starting (waiting for the database): shown, but not ready, like unreachable
    return Outcome(EXIT_UNREACHABLE if result.get("state") == "starting" else EXIT_OK)


def types(s: Session, _a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    s.show(s.call("types"), lambda r, v: v.table(rows_of(r, "types"), ("name", "description")))
    return Outcome()


def cycle(s: Session, a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    if a.action == "list":
        columns = ("id", "cycle_name", "status", "configurations", "created_ts", "archived_ts")
        listing(s, a, "cycle.list", "cycles", columns)
    else:
        view = views.cycle_created if a.action == "create" else _block
        s.show(s.call(f"cycle.{a.action}", name=a.name), view)
    return Outcome()


def config(s: Session, a: argparse.Namespace, f: dict[str, Any]) -> Outcome:
    if a.action == "load":
        result = s.call("config.load", cycle=a.cycle, dry_run=a.dry_run, **f)
        if a.dry_run:
            s.show(result, views.config_checked)
            return Outcome(EXIT_OK if result.get("valid") else EXIT_REFUSED)
        s.show(result, lambda r, _v: str(r.get("configuration_id")))
    elif a.action == "show":
        s.show(s.call("config.show", configuration_id=a.id), views.config_show)
    else:
        columns = ("id", "cycle_name", "status", "configuration_file_name", "batches", "created_ts")
        listing(s, a, "config.list", "configurations", columns, cycle=a.cycle)
    return Outcome()


def batch(s: Session, a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    action = a.action
    if action == "create":
        result = s.call(
            "batch.create",
            batch_type=a.type,
            configuration_id=a.configuration_id,
            step_id=a.step,
            allow_duplicate=a.allow_duplicate,
        )
        s.show(result, _id_of)
    elif action == "submit":
        return _submit(s, a)
    elif action == "wait":
        return _wait(s, a.id, a.max_wait)
    elif action == "resubmit-failed":
        return _resubmit_failed(s, a)
    elif action == "list":
        listing(s, a, "batch.list", "batches", BATCH_COLUMNS, status=a.status)
    elif action == "jobs":
        args = {"batch_id": a.id, "status": a.status, "skipped": a.skipped}
        if a.ids and not s.json:
            print("\n".join(str(j["id"]) for j in all_rows(s, "batch.jobs", "jobs", **args)))
        else:
            listing(s, a, "batch.jobs", "jobs", JOB_COLUMNS, views.job_row, **args)
    elif action == "configs":
        listing(s, a, "batch.configs", "job_configurations", CONFIG_COLUMNS, batch_id=a.id)
    elif action == "recon":
        s.show(s.call("batch.recon", batch_id=a.id), views.batch_recon)
    else:
        s.show(s.call("batch.show", batch_id=a.id), views.batch_show)
    return Outcome()


def _preflight_report(r: Mapping[str, Any]) -> str:
    missing = r.get("missing") or []
    head = f"batch {r.get('batch_id')}: {r.get('checked')} jobs checked, {len(missing)} missing"
    lines = [head] + [f"  job {m['job_id']}: {'; '.join(m['missing'])}" for m in missing]
    return "\n".join(lines)


def _submit(s: Session, a: argparse.Namespace) -> Outcome:
    if getattr(a, "dry_run", False):
        checked = s.call("batch.submit", batch_id=a.id, dry_run=True)
        s.emit(checked, _preflight_report)
        return Outcome(1 if checked.get("missing") else 0)
    result = s.call("batch.submit", batch_id=a.id)
    refused = (result.get("preflight") or {}).get("missing") or []
    if refused and not s.json:
        report = _preflight_report(result["preflight"]).replace("missing", "refused", 1)
        print(report, file=sys.stderr)
    refusals: list[dict[str, Any]] = []
    if not a.no_wait:
        jobs = waiting.wait_acknowledged(s.rows, a.id, None, a.max_wait, s.progress(), call=s.call)
        if jobs is None:
            return _not_acknowledged(s, a.max_wait)
        refusals = _refusals(s, a.id, jobs)
        result = {**result, "jobs": jobs, **({"refused": refusals} if refusals else {})}
    s.show(result, views.batch_submitted)
    return Outcome(EXIT_REFUSED if refusals else 0)


def _refusals(s: Session, batch_id: int, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Jobs Moody's refused for good (ERROR) among the acknowledged, each on stderr with its
    reason (a rejected request will not pass by waiting)."""
    ids = {int(j["job_id"]) for j in jobs if j.get("status") == "ERROR"}
    refused = waiting.refused_jobs(s.rows, batch_id, ids) if ids else []
    for item in refused[:MAX_REFUSALS_SHOWN]:
        reason = escape(" ".join(str(item["last_error"]).split()))
        print(f"irpctl: job {item['job_id']} refused: {reason}", file=sys.stderr)
    if len(refused) > MAX_REFUSALS_SHOWN:
        print(f"irpctl: ... and {len(refused) - MAX_REFUSALS_SHOWN} more", file=sys.stderr)
    return refused


#: refused jobs listed on stderr after a submission (the rest are counted)
MAX_REFUSALS_SHOWN = 10


def _not_acknowledged(s: Session, max_wait: float) -> Outcome:
    message = (
        f"Moody's has not acknowledged every job after {max_wait:g} s (--max-wait); the daemon "
        "keeps trying: see 'irpctl status' and 'irpctl batch jobs ID'"
    )
    report_error(s.json, "WaitTimedOut", message)
    return Outcome(EXIT_UNREACHABLE)


def _wait(s: Session, batch_id: int, max_wait: float) -> Outcome:
    ended = waiting.wait_batch(s.call, s.rows, batch_id, max_wait, s.progress())
    if ended.exit_code == waiting.EXIT_TIMED_OUT:
        report_error(s.json, "WaitTimedOut", ended.message, {"batch": ended.shown})
        return Outcome(EXIT_UNREACHABLE)
    shown = dict(ended.shown)
    if ended.attention is not None:
        shown["attention"] = ended.attention
        attention = ended.attention
        listed = " ".join(str(i) for i in attention["job_ids"]) or "-"
        more = attention["jobs"] - len(attention["job_ids"])
        why = "needs an operator" if ended.exit_code == EXIT_NEEDS_OPERATOR else shown["status"]
        print(
            f"irpctl: batch {batch_id} {why}: {attention['next_action']}; "
            f"jobs to look at: {listed}" + (f" (+{more} more)" if more > 0 else ""),
            file=sys.stderr,
        )
    s.show(shown, views.batch_show)
    return Outcome(ended.exit_code)


def _resubmit_failed(s: Session, a: argparse.Namespace) -> Outcome:
    result = _send_resubmission(s, a, "batch.resubmit_failed", batch_id=a.id)
    new_ids = {int(p["new_job_id"]) for p in result.get("jobs", [])}
    jobs = _acknowledged(s, a, a.id, new_ids) if result.get("queued") else []
    if jobs is None:
        return _not_acknowledged(s, a.max_wait)
    if jobs:
        result = {**result, "acknowledged": jobs}
    s.show(result, views.resubmitted_failed)
    return Outcome()


def _send_resubmission(s: Session, a: argparse.Namespace, command: str, **ids: int) -> Any:
    """Send a resubmission with the override of ``--override``/``--set``/``--replace``."""
    replace = bool(getattr(a, "replace", False))
    return s.call(
        command,
        **ids,
        override=override_of(a.override, a.set, replace),
        reason=a.reason,
        replace=replace or None,
        hold=a.hold or None,
    )


def _acknowledged(
    s: Session, a: argparse.Namespace, batch_id: int, job_ids: set[int]
) -> list[dict[str, Any]] | None:
    """The queued jobs once Moody's acknowledged them ([] with --no-wait; None: timed out)."""
    if a.no_wait:
        return []
    return waiting.wait_acknowledged(
        s.rows, batch_id, job_ids, a.max_wait, s.progress(), call=s.call
    )


def job(s: Session, a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    action = a.action
    if action == "show":
        s.show(s.call("job.show", job_id=a.id), views.job_show)
    elif action == "submit":
        return _submit_job(s, a)
    elif action == "track":
        s.show(s.call("job.track", job_id=a.id), _block)
    elif action == "resubmit":
        return _resubmit(s, a)
    elif action == "tracking":
        listing(s, a, "job.tracking", "tracking_log", TRACKING_COLUMNS, job_id=a.id)
    elif action == "skip":
        s.show(s.call("job.skip", job_id=a.id, reason=a.reason), _block)
    elif action == "cancel":
        s.show(s.call("job.cancel", job_id=a.id), _block)
    else:
        s.show(s.call("job.force_ok", job_id=a.id, reason=a.reason), _block)
    return Outcome()


def _submit_job(s: Session, a: argparse.Namespace) -> Outcome:
    result = s.call("job.submit", job_id=a.id, force=a.force)
    job_id, batch_id = int(result["job_id"]), int(result["batch_id"])
    jobs = _acknowledged(s, a, batch_id, {job_id})
    if jobs is None:
        return _not_acknowledged(s, a.max_wait)
    refusals = _refusals(s, batch_id, jobs)
    if jobs:
        result = {**result, "status": jobs[0]["status"]}
    if refusals:
        result["last_error"] = refusals[0]["last_error"]
    s.show(result, _block)
    return Outcome(EXIT_REFUSED if refusals else 0)


def _resubmit(s: Session, a: argparse.Namespace) -> Outcome:
    result = _send_resubmission(s, a, "job.resubmit", job_id=a.id)
    new_id = int(result["job_id"])
    queued = bool(result.get("queued"))
    jobs = _acknowledged(s, a, int(result["batch_id"]), {new_id}) if queued else []
    if jobs is None:
        return _not_acknowledged(s, a.max_wait)
    if jobs:
        status = jobs[0]["status"]
        result = {**result, "acknowledged_status": status}
        print(f"irpctl: job {new_id} acknowledged: {status}", file=sys.stderr)
    s.show(result, lambda r, _v: str(r.get("job_id")))
    return Outcome()


def report_error(as_json: bool, kind: str, message: str, details: Any = None) -> None:
    """One line on stderr; with --json also ``{"error": {type, message, details?}}`` on
    stdout."""
    one_line = escape(" ".join(message.split()))
    print(f"irpctl: {kind}: {one_line}" if kind else f"irpctl: {one_line}", file=sys.stderr)
    if as_json:
        body: dict[str, Any] = {"type": kind or "Error", "message": message}
        if details is not None:
            body["details"] = details
        print(dumps({"error": body}))


COMMANDS: dict[str, Command] = {
    "status": status,
    "types": types,
    **{f"cycle {x}": cycle for x in ("create", "archive", "list")},
    **{f"config {x}": config for x in ("load", "show", "list")},
    **{
        f"batch {x}": batch
        for x in (
            "create",
            "submit",
            "recon",
            "show",
            "list",
            "jobs",
            "configs",
            "wait",
            "resubmit-failed",
        )
    },
    **{
        f"job {x}": job
        for x in ("show", "submit", "track", "tracking", "resubmit", "skip", "cancel", "force-ok")
    },
}
