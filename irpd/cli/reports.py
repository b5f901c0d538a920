"""``irpctl report batches|jobs``: the operator reports (``irp_batch_report`` /
``irp_job_report``), paged like every listing."""

from __future__ import annotations

import argparse
from typing import Any

from irpd.cli.commands import Command, Outcome, Session
from irpd.cli.common import positive_id
from irpd.cli.paging import add_paging, listing
from irpd.cli.views import job_row
from statemachines.batch import BatchStatus
from statemachines.job import JobStatus

BATCH_REPORT_COLUMNS = (
    "batch_id",
    "batch_type",
    "status",
    "progress_pct",
    "total_jobs",
    "in_flight_jobs",
    "failed_jobs",
    "next_action",
)
JOB_REPORT_COLUMNS = (
    "job_id",
    "status",
    "skipped",
    "overridden",
    "progress",
    "seconds_in_status",
    "next_action",
)


BATCH_STATUSES = ", ".join(BatchStatus)
JOB_STATUSES = ", ".join(JobStatus)
#: irpd.ops.reports' next actions (kept here: the CLI does not load the daemon's modules)
BATCH_ACTIONS = "SUBMIT, TRACK, RECONCILE, REVIEW_FAILURES, RESUBMIT_OR_SKIP, PROCEED"
JOB_ACTIONS = "SUBMIT, WAIT, TRACK, RESUBMIT_OR_SKIP, NONE"


def add_report_parsers(sub: Any) -> None:
    """The ``report`` command group."""
    report = sub.add_parser("report", help="batch and job reports (paged)").add_subparsers(
        dest="action", required=True
    )
    batches = report.add_parser("batches", help="one report row per batch")
    batches.add_argument("--status", help=f"only batches in this status ({BATCH_STATUSES})")
    batches.add_argument(
        "--next-action", help=f"only batches whose next action is this ({BATCH_ACTIONS})"
    )
    batches.add_argument("--cycle-id", type=positive_id, help="only this cycle's batches")
    add_paging(batches)
    jobs = report.add_parser("jobs", help="one report row per job of a batch")
    jobs.add_argument("id", type=positive_id, help="batch id")
    jobs.add_argument("--status", help=f"only jobs in this status ({JOB_STATUSES})")
    jobs.add_argument("--next-action", help=f"only jobs whose next action is this ({JOB_ACTIONS})")
    add_paging(jobs)


def report(s: Session, a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    """Run ``report batches`` or ``report jobs``."""
    if a.action == "batches":
        filters = {"status": a.status, "next_action": a.next_action, "cycle_id": a.cycle_id}
        listing(s, a, "report.batches", "batches", BATCH_REPORT_COLUMNS, **filters)
    else:
        filters = {"batch_id": a.id, "status": a.status, "next_action": a.next_action}
        listing(s, a, "report.jobs", "jobs", JOB_REPORT_COLUMNS, job_row, **filters)
    return Outcome()


REPORT_COMMANDS: dict[str, Command] = {"report batches": report, "report jobs": report}
