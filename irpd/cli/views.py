"""What irpctl shows people: one function per result, from the daemon's JSON to text.

Every function takes the command's result (as documented in docs/control.md) and a
:class:`View` (width and colour); ``--json`` bypasses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from irpd.cli.render import Shown, bar, block, cell, counts, duration, escape, table

JOB_COLUMNS: Final = (
    "id",
    "status",
    "skipped",
    "progress",
    "moodys_workflow_id",
    "parent_job_id",
    "last_error",
)
BATCH_COLUMNS: Final = (
    "id",
    "batch_type",
    "status",
    "configuration_id",
    "created_ts",
    "submitted_ts",
)
PROBLEM_COLUMNS: Final = ("sheet", "row", "column", "code", "message")
#: tracking-log rows ``job show`` prints (the rest: ``--json``)
SHOWN_TRACKING_ROWS: Final = 10


@dataclass(frozen=True, slots=True)
class View:
    """Where the text goes: wrap ``width`` (None: never) and ``colour``."""

    width: int | None = None
    colour: bool = False

    def table(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
        """An aligned table of ``rows``."""
        return table(rows, columns, width=self.width, colour=self.colour)

    def block(self, data: Mapping[str, Any] | Sequence[tuple[str, Any]], **kw: Any) -> str:
        """A key/value block."""
        return block(data, width=self.width, colour=self.colour, **kw)


def section(title: str, body: str) -> str:
    """A titled part of a longer view."""
    return f"\n{title}\n{body}" if body else ""


def rows_of(result: Any, key: str) -> list[Mapping[str, Any]]:
    """The list under ``key`` of a listing result (or the result itself when a list)."""
    if isinstance(result, Mapping):
        value = result.get(key, [])
        return value if isinstance(value, list) else []
    return result if isinstance(result, list) else []


# --- status ---------------------------------------------------------------------------------


def _nested(data: Mapping[str, Any], view: View, indent: str) -> str:
    flat = [(k, v) for k, v in data.items() if not isinstance(v, Mapping)]
    text = view.block(flat, indent=indent) if flat else ""
    for key, value in data.items():
        if isinstance(value, Mapping):
            inner = _nested(value, view, indent + "  ") if value else f"{indent}  -"
            text += f"\n{indent}{escape(key)}\n{inner}"
    return text.strip("\n")


def database_alerts(database: Mapping[str, Any]) -> list[str]:
    """Lines that stand out when the database is unavailable or refuses statements."""
    lines = []
    if database.get("available") is False:
        lines.append(
            f"DATABASE UNAVAILABLE ({cell(database.get('reason'))}): "
            f"{cell(database.get('last_error'))}"
        )
    for item in database.get("degraded") or []:
        lines.append(
            f"DATABASE DEGRADED: {cell(item.get('query'))} refused for "
            f"{cell(item.get('seconds'))} s (SQLSTATE {cell(item.get('sqlstate'))}): "
            f"{cell(item.get('error'))}"
        )
    return lines


def moodys_alerts(moodys: Mapping[str, Any]) -> list[str]:
    """Lines that stand out when Moody's is unreachable or refuses irpd's credentials."""
    lines = []
    auth = moodys.get("authentication") or {}
    if auth.get("state") == "failing":
        lines.append(
            f"MOODY'S REFUSES THE CREDENTIALS since {cell(auth.get('failing_since'))}: "
            f"{cell(auth.get('error'))}"
        )
    if moodys.get("reachable") is False:
        circuit = moodys.get("circuit") or {}
        probe = (
            f" (circuit open: next probe in {cell(circuit.get('next_probe_in'))} s)"
            if circuit.get("state") == "open"
            else ""
        )
        lines.append(
            f"MOODY'S UNREACHABLE since {cell(moodys.get('unreachable_since'))}{probe}: "
            f"{cell(moodys.get('last_error'))}"
        )
    return lines


def status(result: Mapping[str, Any], view: View) -> str:
    """``status``: alerts first (``NOT READY`` while starting), the daemon, then one block
    per part (database, Moody's, engine, jobs)."""
    starting = result.get("starting")
    alerts = []
    if isinstance(starting, Mapping):
        alerts.append(f"NOT READY: {cell(starting.get('summary'))}")
    database = result.get("database")
    alerts += database_alerts(database) if isinstance(database, Mapping) else []
    moodys = result.get("moodys")
    alerts += moodys_alerts(moodys) if isinstance(moodys, Mapping) else []
    head = view.block(
        [
            ("version", result.get("version")),
            ("pid", result.get("pid")),
            ("uptime", Shown(duration(result.get("uptime_seconds")))),
            ("worker", result.get("worker_id")),
        ]
    )
    parts = [*alerts, head]
    for name in ("database", "moodys", "engine"):
        value = result.get(name)
        if isinstance(value, Mapping):
            if name == "engine":  # its own view of the database and Moody's repeats the above
                value = {k: v for k, v in value.items() if k not in ("database", "moodys")}
            parts.append(section(name, _nested(value, view, "  ")))
    jobs = result.get("jobs_by_status")
    jobs_text = (
        "  (the database is unavailable)"
        if jobs is None
        else view.block([_job_count(k, v) for k, v in sorted(jobs.items())], indent="  ")
        or "  (no jobs)"
    )
    if starting is None:  # while starting there is nothing to count yet
        parts.append(section("jobs by status", jobs_text))
    tasks = result.get("tasks")
    if isinstance(tasks, list) and tasks:
        parts.append(section("tasks", "  " + ", ".join(escape(str(t)) for t in tasks)))
    return "\n".join(p for p in parts if p)


def _job_count(status: str, n: Any) -> tuple[str, Any]:
    if status != "SKIPPED":
        return status, n
    return status, Shown(f"{cell(n)} (replaced by a resubmission or skipped by an operator; "
                         "no failure of their batch)")


# --- batches --------------------------------------------------------------------------------


def _progress(report: Mapping[str, Any]) -> str:
    done, total = report.get("fulfilled_configs"), report.get("total_configs")
    if not isinstance(done, int) or not isinstance(total, int):
        return "-"
    percent = f" ({report['progress_pct']}%)" if report.get("progress_pct") is not None else ""
    return f"{bar(done, total)} {done}/{total} job configurations done{percent}"


def batch_show(result: Mapping[str, Any], view: View) -> str:
    """``batch show``: the batch, its progress, its jobs by status and what to do next."""
    report = result.get("report") or {}
    jobs = report.get("status_counts") or result.get("job_status_counts")
    skipped = report.get("skipped_jobs")
    total = report.get("total_jobs", result.get("jobs"))
    pairs: list[tuple[str, Any]] = [
        ("batch", result.get("id")),
        ("type", result.get("batch_type")),
        ("status", result.get("status")),
        ("next action", report.get("next_action")),
        ("progress", Shown(_progress(report))),
        ("jobs", Shown(f"{cell(total)} ({cell(skipped)} skipped): {counts(jobs)}")),
        ("configuration", result.get("configuration_id")),
        ("cycle", report.get("cycle_name", result.get("cycle_name"))),
        ("step", Shown(_step(result))),
        ("created", result.get("created_ts")),
        ("submitted", result.get("submitted_ts")),
        ("completed", result.get("completed_ts")),
        ("last recon", Shown(_last_recon(report))),
    ]
    return view.block(pairs)


def _step(batch: Mapping[str, Any]) -> str:
    name = batch.get("step_name")
    return f"{cell(batch.get('step_id'))} ({cell(name)}, cycle plan)" if name else cell(
        batch.get("step_id")
    )


def _last_recon(report: Mapping[str, Any]) -> str:
    if not report.get("last_recon_ts"):
        return "-"
    return f"{cell(report.get('last_recon_result'))} at {cell(report.get('last_recon_ts'))}"


def batch_recon(result: Mapping[str, Any], view: View) -> str:
    """``batch recon``: the decided status and the summary it was decided on."""
    summary = result.get("summary") or result.get("recon_summary") or {}
    previous, status = result.get("previous_status"), result.get("status")
    moved = f"{cell(previous)} -> {cell(status)}" if previous != status else cell(status)
    pairs: list[tuple[str, Any]] = [
        ("batch", result.get("batch_id")),
        ("status", Shown(moved)),
        ("computed", result.get("computed_status")),
        (
            "configurations",
            Shown(f"{cell(summary.get('fulfilled_configs'))}/{cell(summary.get('total_configs'))}"
                  " fulfilled"),
        ),
        ("jobs", Shown(f"{cell(summary.get('total_jobs'))}: "
                       f"{counts(summary.get('job_status_counts'))}")),
        ("failed jobs", _ids(summary.get("failed_job_ids"))),
        ("unfulfilled configs", _ids(summary.get("unfulfilled_config_ids"))),
        ("completed", result.get("completed_ts")),
        ("recon log", result.get("recon_log_id")),
    ]
    return view.block(pairs)


def _ids(values: Any) -> Shown:
    if not values:
        return Shown("-")
    return Shown(" ".join(cell(v) for v in values))


def batch_submitted(result: Mapping[str, Any], view: View) -> str:
    """``batch submit``: the batch's new status and its jobs' state."""
    jobs = result.get("jobs") or []
    states = {str(j.get("status")): 0 for j in jobs}
    for job in jobs:
        states[str(job.get("status"))] += 1
    return view.block(
        [
            ("batch", result.get("batch_id")),
            ("status", result.get("batch_status")),
            ("queued jobs", result.get("submitted_jobs")),
            ("jobs now", Shown(counts(states))),
        ]
    )


# --- jobs -----------------------------------------------------------------------------------


def job_show(result: Mapping[str, Any], view: View) -> str:
    """``job show``: the job, its configuration, the override as a diff, lineage, history."""
    job = result.get("job") or {}
    configuration = result.get("job_configuration") or {}
    pairs: list[tuple[str, Any]] = [
        ("job", job.get("id")),
        ("status", job.get("status")),
        ("batch", Shown(f"{cell(job.get('batch_id'))} ({cell(job.get('batch_type'))}, "
                        f"{cell(job.get('batch_status'))})")),
        ("skipped", Shown(_skipped(job))),
        ("workflow", job.get("moodys_workflow_id")),
        ("progress", job.get("progress")),
        ("polls", job.get("poll_count")),
        ("created", job.get("created_ts")),
        ("submitted", job.get("submitted_ts")),
        ("completed", job.get("completed_ts")),
        ("parent job", job.get("parent_job_id")),
        ("forced ok", job.get("forced_ok_reason_txt")),
        ("last error", job.get("last_error")),
    ]
    parts = [view.block([(k, v) for k, v in pairs if v is not None or k in ("status", "job")])]
    data = configuration.get("job_configuration_data")
    if isinstance(data, Mapping):
        title = f"job configuration {cell(configuration.get('id'))}"
        parts.append(section(title, view.block(sorted(data.items()), indent="  ")))
    override = result.get("override")
    if isinstance(override, Mapping):
        parts.append(section(_override_title(override), override_diff(override)))
    lineage = result.get("lineage") or []
    if len(lineage) > 1:
        parts.append(
            section(
                "resubmissions",
                view.table(
                    lineage,
                    ("job_id", "status", "skipped", "overridden", "override_reason_txt"),
                ),
            )
        )
    log = result.get("tracking_log") or []
    if log:
        shown = log[-SHOWN_TRACKING_ROWS:]
        more = len(log) - len(shown)
        title = "history" + (f" (last {len(shown)} of {len(log)}; all with --json)" if more else "")
        parts.append(
            section(title, view.table(shown, ("tracked_ts", "previous_status", "job_status",
                                              "source")))
        )
    return "\n".join(p for p in parts if p)


def _skipped(job: Mapping[str, Any]) -> str:
    if not job.get("skipped"):
        return "no"
    return f"yes: {cell(job.get('skipped_reason_txt'))}"


def job_row(job: Mapping[str, Any]) -> Mapping[str, Any]:
    """A job of a listing as people read it: a skipped job says it is (and, when a
    resubmission replaced it, by which job), so that its FAILED is not read as the batch's."""
    if not job.get("skipped"):
        return {**job, "skipped": ""}
    replaced_by = job.get("replaced_by_job_id")
    return {**job, "skipped": f"replaced by {replaced_by}" if replaced_by else "skipped"}


def _override_title(override: Mapping[str, Any]) -> str:
    parent = cell(override.get("parent_job_configuration_id"))
    return f"override of job configuration {parent}: {cell(override.get('reason'))}"


def override_diff(override: Mapping[str, Any]) -> str:
    """The changes as a diff: ``- key: old`` / ``+ key: new``."""
    lines = []
    for change in override.get("changes") or []:
        key = escape(str(change.get("key")))
        if change.get("change") != "added":
            lines.append(f"  - {key}: {cell(change.get('old'))}")
        if change.get("change") != "removed":
            lines.append(f"  + {key}: {cell(change.get('new'))}")
    return "\n".join(lines) or "  (no changes)"


def resubmitted_failed(result: Mapping[str, Any], view: View) -> str:
    """``batch resubmit-failed``: counts, then old → new job ids."""
    head = view.block(
        [
            ("batch", result.get("batch_id")),
            ("status", result.get("batch_status")),
            ("resubmitted", result.get("resubmitted")),
            ("queued", result.get("queued")),
        ]
    )
    pairs = result.get("jobs") or []
    return head + "\n" + view.table(pairs, ("job_id", "new_job_id"))


# --- configurations, types, problems ---------------------------------------------------------


def problems(items: Sequence[Mapping[str, Any]], view: View) -> str:
    """Workbook problems (or an override's bad keys) as a table."""
    columns = ("key", "message") if items and "key" in items[0] else PROBLEM_COLUMNS
    return view.table(items, columns)


def cycle_created(result: Mapping[str, Any], view: View) -> str:
    """``cycle create``: the new cycle, and by name the ACTIVE cycle it archived (a JSON blob
    there hid that a new cycle archives the current one)."""
    archived = result.get("archived_cycle")
    shown = {
        **result,
        "archived_cycle": Shown(f"{escape(str(archived.get('cycle_name')))} (id "
                                f"{archived.get('id')}): it was the ACTIVE cycle")
        if isinstance(archived, Mapping)
        else None,
    }
    return view.block(shown)


def config_checked(result: Mapping[str, Any], view: View) -> str:
    """``config load --dry-run``: valid or not, and every problem."""
    head = view.block(
        [
            ("workbook", result.get("configuration_file_name")),
            ("cycle", result.get("cycle_name")),
            ("valid", result.get("valid")),
            ("problems", len(result.get("problems") or [])),
        ]
    )
    found = result.get("problems") or []
    return head + (f"\n\n{problems(found, view)}" if found else "")


def config_show(result: Mapping[str, Any], view: View) -> str:
    """``config show``: the configuration and the size of each of its sheets."""
    data = result.get("configuration_data")
    sheets = []
    if isinstance(data, Mapping):
        for name, value in data.items():
            if name.startswith("_"):
                continue
            size = f"{len(value)} rows" if isinstance(value, list) else (
                f"{len(value)} keys" if isinstance(value, Mapping) else cell(value)
            )
            sheets.append((name, Shown(size)))
    pairs = [(k, v) for k, v in result.items() if k != "configuration_data"]
    text = view.block(pairs)
    if sheets:
        text += section("sheets (the data: --json)", view.block(sheets, indent="  "))
    return text
