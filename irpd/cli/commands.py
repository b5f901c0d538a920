"""irpctl's commands: each sends control requests and renders the answer."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from irpd.cli.paging import all_rows, listing
from irpd.cli.render import block, table
from irpd.control.client import ControlClient, DaemonUnreachable

JOB_COLUMNS = (
    "id",
    "status",
    "skipped",
    "progress",
    "moodys_workflow_id",
    "parent_job_id",
    "last_error",
)
BATCH_COLUMNS = ("id", "batch_type", "status", "configuration_id", "created_ts", "submitted_ts")
CONFIG_COLUMNS = (
    "id",
    "skipped",
    "overridden",
    "override_reason_txt",
    "parent_job_configuration_id",
)
TRACKING_COLUMNS = ("id", "tracked_ts", "source", "previous_status", "job_status", "tracking_data")
TERMINAL_BATCH = ("COMPLETED", "FAILED", "CANCELLED")


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a command ended."""

    exit_code: int = 0


class Session:
    """A connection plus output preferences."""

    def __init__(self, client: ControlClient, *, json_output: bool) -> None:
        self.client = client
        self.json = json_output

    def call(self, command: str, **args: Any) -> Any:
        """Send a command (``None`` arguments are left out)."""
        return self.client.call(command, {k: v for k, v in args.items() if v is not None})

    def emit(self, result: Any, human: Callable[[Any], str]) -> None:
        """Print ``result`` as JSON (--json) or through ``human``."""
        print(json.dumps(result, indent=2, default=str) if self.json else human(result))

    def print_problems(self, details: Any) -> None:
        """Workbook problems (sheet, row, column, code, message) as a table on stderr."""
        problems = details.get("problems") if isinstance(details, dict) else details
        if isinstance(problems, list) and problems:
            print(table(problems, ("sheet", "row", "column", "code", "message")), file=sys.stderr)


Command = Callable[[Session, argparse.Namespace, dict[str, Any]], Outcome]


def _rows(result: Any, key: str) -> list[Mapping[str, Any]]:
    if isinstance(result, dict):
        value = result.get(key, [])
        return value if isinstance(value, list) else []
    return result if isinstance(result, list) else []


def status(s: Session, _a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    def human(r: dict[str, Any]) -> str:
        engine = r.get("engine", {})
        lines = [
            block(r, ["version", "pid", "uptime_seconds", "worker_id"]),
            "database:   " + json.dumps(r.get("database"), default=str),
            "moodys:     " + json.dumps(r.get("moodys"), default=str),
            "engine:     "
            + json.dumps(
                {k: v for k, v in engine.items() if k not in ("database", "jobs_by_status")},
                default=str,
            ),
            "jobs:       " + json.dumps(r.get("jobs_by_status", {}), default=str),
        ]
        return "\n".join(lines + _database_alerts(r.get("database") or {}))

    s.emit(s.call("status"), human)
    return Outcome()


def _database_alerts(database: Mapping[str, Any]) -> list[str]:
    """Lines that stand out when the database is unavailable or refuses statements."""
    lines = []
    if database.get("available") is False:
        lines.append(
            f"DATABASE UNAVAILABLE ({database.get('reason')}): {database.get('last_error')}"
        )
    for item in database.get("degraded") or []:
        lines.append(
            f"DATABASE DEGRADED: {item.get('query')} refused for {item.get('seconds')} s "
            f"(SQLSTATE {item.get('sqlstate')}): {item.get('error')}"
        )
    return lines


def types(s: Session, _a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    s.emit(s.call("types"), lambda r: table(_rows(r, "types"), ("name", "description")))
    return Outcome()


def cycle(s: Session, a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    if a.action == "list":
        columns = ("id", "cycle_name", "status", "created_ts", "archived_ts")
        listing(s, a, "cycle.list", "cycles", columns)
    else:
        s.emit(s.call(f"cycle.{a.action}", name=a.name), block)
    return Outcome()


def config(s: Session, a: argparse.Namespace, f: dict[str, Any]) -> Outcome:
    if a.action == "load":
        result = s.call("config.load", cycle=a.cycle, dry_run=a.dry_run, **f)
        s.emit(result, lambda r: block(r, [k for k in r if k != "configuration_data"]))
    elif a.action == "show":
        s.emit(
            s.call("config.show", configuration_id=a.id),
            lambda r: json.dumps(r, indent=2, default=str),
        )
    else:
        columns = ("id", "cycle_id", "status", "configuration_file_name", "created_ts")
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
        s.emit(result, lambda r: str(r.get("batch_id", r.get("id"))))
    elif action == "submit":
        return _submit(s, a)
    elif action == "wait":
        return _wait(s, a.id, a.wait_timeout)
    elif action == "list":
        listing(s, a, "batch.list", "batches", BATCH_COLUMNS, status=a.status)
    elif action == "jobs":
        args = {"batch_id": a.id, "status": a.status, "skipped": a.skipped}
        listing(s, a, "batch.jobs", "jobs", JOB_COLUMNS, **args)
    elif action == "configs":
        listing(s, a, "batch.configs", "job_configurations", CONFIG_COLUMNS, batch_id=a.id)
    elif action == "recon":
        s.emit(s.call("batch.recon", batch_id=a.id), lambda r: json.dumps(r, indent=2))
    else:
        s.emit(s.call("batch.show", batch_id=a.id), lambda r: json.dumps(r, indent=2, default=str))
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
        print(_preflight_report(result["preflight"]).replace("missing", "refused", 1),
              file=sys.stderr)
    if not a.no_wait:
        deadline = time.monotonic() + a.wait_timeout
        while True:
            jobs = all_rows(s, "batch.jobs", "jobs", batch_id=a.id, skipped=False)
            pending = [
                j
                for j in jobs
                if j.get("status") in ("INITIATED", "SUBMITTING") and j.get("submit_requested_ts")
            ]
            if not pending:
                result = {
                    **result,
                    "jobs": [{"job_id": j["id"], "status": j["status"]} for j in jobs],
                }
                break
            if time.monotonic() > deadline:
                print(f"irpctl: {len(pending)} jobs not yet acknowledged", file=sys.stderr)
                return Outcome(3)
            time.sleep(0.5)
    s.emit(
        result,
        lambda r: (
            block(r, ["batch_id", "batch_status", "submitted_jobs"])
            + "\n"
            + table(r.get("jobs", []), ("job_id", "status"))
        ),
    )
    return Outcome()


def _wait(s: Session, batch_id: int, timeout: float) -> Outcome:
    deadline = time.monotonic() + timeout
    interactive = sys.stderr.isatty() and not s.json
    last = ""
    while True:
        try:
            shown = s.call("batch.show", batch_id=batch_id)
        except DaemonUnreachable:
            if time.monotonic() > deadline:
                raise
            time.sleep(1.0)
            continue
        status = str(shown.get("status"))
        summary = _progress(shown)
        if summary != last and (interactive or not s.json):
            print(
                f"\r{summary}" if interactive else summary,
                file=sys.stderr,
                end="" if interactive else "\n",
                flush=True,
            )
            last = summary
        if status in TERMINAL_BATCH:
            if interactive:
                print(file=sys.stderr)
            s.emit(shown, lambda r: f"batch {r.get('id')} {r.get('status')}")
            return Outcome(0 if status == "COMPLETED" else 1)
        if time.monotonic() > deadline:
            print(f"\nirpctl: batch {batch_id} still {status} after {timeout:g}s", file=sys.stderr)
            return Outcome(3)
        time.sleep(1.0)


def _progress(shown: Mapping[str, Any]) -> str:
    report = shown.get("report") or {}
    counts = report.get("job_status_counts") or shown.get("job_status_counts") or {}
    fulfilled = report.get("fulfilled_configs")
    total = report.get("total_configs")
    done = f" {fulfilled}/{total} done" if total is not None else ""
    return f"batch {shown.get('id')} {shown.get('status')}{done} " + " ".join(
        f"{k}={v}" for k, v in sorted(counts.items())
    )


def job(s: Session, a: argparse.Namespace, f: dict[str, Any]) -> Outcome:
    action = a.action
    if action == "show":
        s.emit(s.call("job.show", job_id=a.id), lambda r: json.dumps(r, indent=2, default=str))
    elif action == "submit":
        s.emit(s.call("job.submit", job_id=a.id, force=a.force), block)
    elif action == "tracking":
        listing(s, a, "job.tracking", "tracking_log", TRACKING_COLUMNS, job_id=a.id)
    elif action == "track":
        s.emit(s.call("job.track", job_id=a.id), block)
    elif action == "resubmit":
        result = s.call("job.resubmit", job_id=a.id, reason=a.reason, **f)
        s.emit(result, lambda r: str(r.get("job_id", r.get("id"))))
    elif action == "skip":
        s.emit(s.call("job.skip", job_id=a.id, reason=a.reason), block)
    elif action == "cancel":
        s.emit(s.call("job.cancel", job_id=a.id), block)
    else:
        s.emit(s.call("job.force_ok", job_id=a.id, reason=a.reason), block)
    return Outcome()


COMMANDS: dict[str, Command] = {
    "status": status,
    "types": types,
    **{f"cycle {x}": cycle for x in ("create", "archive", "list")},
    **{f"config {x}": config for x in ("load", "show", "list")},
    **{
        f"batch {x}": batch
        for x in ("create", "submit", "recon", "show", "list", "jobs", "configs", "wait")
    },
    **{
        f"job {x}": job
        for x in ("show", "submit", "track", "tracking", "resubmit", "skip", "cancel", "force-ok")
    },
}
