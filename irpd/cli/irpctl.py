"""``irpctl``: the operator's command line for a running irpd (over its control socket).

Exit codes: 0 success; 1 the daemon refused (its message on stderr), Moody's refused a
submission that was waited for (its credentials at once, or a job ERROR), a waited-for batch
ended FAILED/CANCELLED, or ``config load --dry-run`` found problems; 2 usage error (bad arguments, a
missing or unreadable file, invalid JSON); 3 daemon unreachable, or a wait reached
``--max-wait``; 4 ``batch wait``: the batch needs an operator. A closed stdout (``| head``)
ends quietly with 141.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from irpd.cli.commands import (
    COMMANDS,
    EXIT_NEEDS_OPERATOR,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Outcome,
    Session,
    report_error,
)
from irpd.cli.common import DefaultsParser, load, non_negative_of, positive_id
from irpd.cli.edits import UsageError, read_bytes
from irpd.cli.notifications import add_parser as add_notifications
from irpd.cli.notifications import notifications
from irpd.cli.paging import add_paging
from irpd.cli.plan_commands import PLAN_COMMANDS, add_batch_actions, add_cycle_actions
from irpd.cli.reports import REPORT_COMMANDS, add_report_parsers
from irpd.cli.views import View, problems
from irpd.cli.waiting import CredentialsRefused
from irpd.control.client import ControlClient, DaemonRefused, DaemonUnreachable, not_serving
from irpd.errors import IrpdError
from statemachines.batch import BatchStatus
from statemachines.job import JobStatus

#: exit status of a process whose stdout reader went away (128 + SIGPIPE)
EXIT_BROKEN_PIPE = 141

__all__ = ["EXIT_NEEDS_OPERATOR", "build_parser", "main"]

EPILOG = """\
socket: --socket PATH, else $IRPD_CONTROL_SOCKET, else the daemon's configuration
(--config, $IRPD_CONFIG or /etc/irpd/irpd.toml).

exit codes:
  0  ok
  1  refused by the daemon (message on stderr); Moody's refused a submission that was
     waited for (its credentials: at once; a job ERROR: listed with its reason); the
     waited-for batch ended FAILED or CANCELLED; config load --dry-run found problems
  2  usage error: bad arguments, a missing or unreadable file, invalid JSON
  3  daemon unreachable or not ready yet (starting: waiting for the database; `status`
     shows why), or a wait reached --max-wait
  4  batch wait: the batch needs an operator (its next action and job ids on stderr)

--json prints the daemon's result unchanged (stable keys, documented in docs/control.md);
every failure also prints {"error": {"type", "message", "details"?}} on stdout.
Colour only on a terminal and never with NO_COLOR set.
"""

RESUBMIT_EPILOG = """\
An override gives the changed parameters only: --set KEY=VALUE (VALUE is JSON when it parses:
0.9, true, null, "9", ["a"]; text otherwise) and/or --override FILE (a JSON object). They are
merged onto the job's configuration (a key set to null is removed; objects merge key by key);
--replace makes FILE the whole new configuration. The result is checked by the batch type's
rules before anything is stored; a refusal names each bad key. --reason is required with an
override.
"""


class Parser(DefaultsParser):
    """Defaults in every ``--help``; usage errors raised (exit 2, and JSON with --json)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().strip()}")


class _Renamed(argparse.Action):
    """A former option name: still accepted, with a note naming the new one."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        print(
            f"irpctl: note: 'batch wait {option_string}' is now '--max-wait' "
            "(irpctl --timeout is the wait for each answer of the daemon)",
            file=sys.stderr,
        )
        setattr(namespace, self.dest, values)


_id = positive_id


_seconds = non_negative_of("seconds")


def build_parser() -> argparse.ArgumentParser:
    """The ``irpctl`` argument parser."""
    p = Parser(prog="irpctl", description="Drive and watch a running irpd.", epilog=EPILOG)
    p.add_argument("--socket", help="control socket path")
    p.add_argument("--config", help="irpd.toml (to find the socket)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument(
        "--timeout",
        type=_seconds,
        default=30.0,
        help="seconds to wait for each answer of the daemon (not how long a wait lasts: "
        "see --max-wait)",
    )
    sub = p.add_subparsers(dest="group", required=True, metavar="COMMAND")

    sub.add_parser("status", help="daemon health, database, Moody's, jobs by status")
    sub.add_parser("types", help="registered batch types")

    cycle = sub.add_parser("cycle", help="cycles").add_subparsers(dest="action", required=True)
    helps = {"create": "create a cycle; it archives the ACTIVE cycle", "archive": "archive a cycle"}
    for name, text in helps.items():
        cycle.add_parser(name, help=text).add_argument("name", help="cycle name")
    add_paging(cycle.add_parser("list", help="list cycles"))
    add_cycle_actions(cycle)

    config = sub.add_parser("config", help="configurations (workbooks)").add_subparsers(
        dest="action", required=True
    )
    load_ = config.add_parser(
        "load",
        help="register a workbook (prints its id) or check it (--dry-run: exit 1 if invalid)",
    )
    load_.add_argument("file", type=Path, help="the .xlsx workbook")
    load_.add_argument("--cycle", required=True, help="cycle name")
    load_.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    config.add_parser("show", help="show a configuration").add_argument(
        "id", type=_id, help="configuration id (see 'irpctl config list')"
    )
    config_list = config.add_parser("list", help="list configurations")
    config_list.add_argument("--cycle", help="only this cycle's configurations (cycle name)")
    add_paging(config_list)

    _add_batch(sub)
    _add_job(sub)
    add_report_parsers(sub)
    add_notifications(sub, _id)
    return p


BATCH_STATUSES = ", ".join(BatchStatus)
JOB_STATUSES = ", ".join(JobStatus)


def _max_wait(parser: argparse.ArgumentParser, default: float, what: str) -> None:
    parser.add_argument(
        "--max-wait", type=_seconds, default=default, help=f"give up {what} after this many s"
    )


def _override_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a changed parameter (repeatable; VALUE is JSON if it parses, else text; "
        "null removes the key)",
    )
    parser.add_argument(
        "--override", type=Path, metavar="FILE", help="JSON object of changed parameters"
    )
    parser.add_argument("--reason", help="why (required with an override)")
    parser.add_argument(
        "--hold", action="store_true", help="leave the new job INITIATED instead of queuing it"
    )
    parser.add_argument(
        "--no-wait", action="store_true", help="do not wait for Moody's acknowledgement"
    )
    _max_wait(parser, 600.0, "waiting for Moody's acknowledgement")


def _add_batch(sub: Any) -> None:
    batch = sub.add_parser("batch", help="batches").add_subparsers(dest="action", required=True)
    create = batch.add_parser("create", help="create a batch; prints its id")
    create.add_argument("type", help="batch type (see 'irpctl types')")
    create.add_argument(
        "--config",
        dest="configuration_id",
        type=_id,
        required=True,
        metavar="ID",
        help="configuration id (printed by 'irpctl config load')",
    )
    create.add_argument("--step", type=_id, help="the cycle step id the batch belongs to")
    create.add_argument(
        "--allow-duplicate",
        metavar="REASON",
        help="create it although the configuration has a live batch of this type",
    )
    submit = batch.add_parser("submit", help="submit; waits until Moody's acknowledged all")
    submit.add_argument("id", type=_id, help="batch id")
    submit.add_argument("--no-wait", action="store_true", help="return once queued")
    submit.add_argument(
        "--dry-run",
        action="store_true",
        help="check the jobs' Moody's references (pre-flight) and send nothing; exit 1 if any "
        "is missing",
    )
    _max_wait(submit, 600.0, "waiting for Moody's acknowledgement")
    submit.add_argument("--wait-timeout", dest="max_wait", type=_seconds, help=argparse.SUPPRESS)
    for name, text in (
        ("recon", "reconcile now"),
        ("show", "batch with its progress and next action"),
    ):
        batch.add_parser(name, help=text).add_argument("id", type=_id, help="batch id")
    configs = batch.add_parser("configs", help="job configurations (paged)")
    configs.add_argument("id", type=_id, help="batch id")
    add_paging(configs)
    batch_list = batch.add_parser("list", help="list batches (paged)")
    batch_list.add_argument("--status", help=f"only batches in this status ({BATCH_STATUSES})")
    add_paging(batch_list)
    jobs = batch.add_parser("jobs", help="jobs of a batch (paged)")
    jobs.add_argument("id", type=_id, help="batch id")
    jobs.add_argument("--status", help=f"only jobs in this status ({JOB_STATUSES})")
    add_paging(jobs)
    skipped = jobs.add_mutually_exclusive_group()
    skipped.add_argument(
        "--skipped",
        dest="skipped",
        action="store_const",
        const=True,
        help="only skipped jobs (replaced by a resubmission, or skipped by an operator)",
    )
    skipped.add_argument(
        "--not-skipped",
        dest="skipped",
        action="store_const",
        const=False,
        help="only the jobs that count (not skipped)",
    )
    jobs.add_argument("--ids", action="store_true", help="only the job ids, one per line")
    add_batch_actions(batch)
    wait = batch.add_parser(
        "wait",
        help="wait for an outcome: 0 COMPLETED, 1 FAILED/CANCELLED, 4 needs an operator, "
        "3 --max-wait reached",
        epilog="Progress (jobs per status, elapsed; a bar on a terminal) goes to stderr.",
    )
    wait.add_argument("id", type=_id, help="batch id")
    _max_wait(wait, 3600.0, "waiting")
    wait.add_argument(
        "--timeout", dest="max_wait", type=_seconds, action=_Renamed, help=argparse.SUPPRESS
    )
    failed = batch.add_parser(
        "resubmit-failed",
        help="resubmit every FAILED/ERROR job of a batch (queued), optionally with an override",
        epilog=RESUBMIT_EPILOG.replace(
            "\n--replace makes FILE the whole new configuration.", ""
        ).replace("--replace makes FILE the whole new configuration. ", ""),
    )
    failed.add_argument("id", type=_id, help="batch id")
    _override_args(failed)


def _add_job(sub: Any) -> None:
    job = sub.add_parser("job", help="jobs").add_subparsers(dest="action", required=True)
    for name, text in (
        ("show", "job, configuration, override diff, resubmissions, history"),
        ("track", "poll now"),
        ("cancel", "cancel (sent to Moody's by the daemon)"),
    ):
        job.add_parser(name, help=text).add_argument("id", type=_id, help="job id")
    tracking = job.add_parser("tracking", help="tracking history, oldest first (paged)")
    tracking.add_argument("id", type=_id, help="job id")
    add_paging(tracking)
    jsubmit = job.add_parser("submit", help="queue one job; waits until Moody's acknowledged it")
    jsubmit.add_argument("id", type=_id, help="job id")
    jsubmit.add_argument(
        "--force", action="store_true", help="already submitted: resubmit as a new job"
    )
    jsubmit.add_argument("--no-wait", action="store_true", help="return once queued")
    _max_wait(jsubmit, 600.0, "waiting for Moody's acknowledgement")
    resubmit = job.add_parser(
        "resubmit",
        help="replace a job by a new one (queued; prints its id), optionally with an override",
        epilog=RESUBMIT_EPILOG,
    )
    resubmit.add_argument("id", type=_id, help="job id (the job to replace)")
    _override_args(resubmit)
    resubmit.add_argument(
        "--replace", action="store_true", help="--override FILE is the whole configuration"
    )
    for name in ("skip", "force-ok"):
        action = job.add_parser(name, help=f"{name} a job (reason required)")
        action.add_argument("id", type=_id, help="job id")
        action.add_argument("--reason", required=True, help="why (kept in the audit trail)")


def socket_path(args: argparse.Namespace) -> tuple[Path, str | None]:
    """Where the daemon listens, and, when neither ``--socket`` nor ``$IRPD_CONTROL_SOCKET``
    named it, where the path came from (said when nothing answers there: a new shell without
    the demo's export line otherwise met only an unexplained default path)."""
    if args.socket:
        return Path(args.socket), None
    if os.environ.get("IRPD_CONTROL_SOCKET"):
        return Path(os.environ["IRPD_CONTROL_SOCKET"]), None
    config, file = load(args.config)
    origin = f"control.socket of {file}" if file else "irpd's default path"
    return config.socket_path, f"neither --socket nor $IRPD_CONTROL_SOCKET was given: {origin}"


def _file_args(args: argparse.Namespace) -> dict[str, Any]:
    """Arguments read from local files (the daemon may not see the operator's files)."""
    extra: dict[str, Any] = {}
    path = getattr(args, "file", None)
    if path is not None:
        content = read_bytes(path, "the workbook")
        extra["filename"] = path.name
        extra["content_b64"] = base64.b64encode(content).decode()
    plan = getattr(args, "plan", None)
    if plan is not None:
        try:
            extra["plan_toml"] = read_bytes(plan, "the plan").decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{plan}: not UTF-8 text (the plan)") from None
    return extra


def _wants_json(argv: Sequence[str]) -> bool:
    """Whether ``--json`` was given (also when the rest of the command line is not valid)."""
    return "--json" in argv


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``irpctl`` command."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(arguments)
    except BrokenPipeError:
        # the reader (| head) went away: say nothing more, like a process killed by SIGPIPE
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(arguments: list[str]) -> int:
    as_json = _wants_json(arguments)
    try:
        args = build_parser().parse_args(arguments)
        files = _file_args(args)
        path, origin = socket_path(args)
    except UsageError as exc:
        usage = str(exc).split("\n")
        report_error(as_json, "UsageError", usage[0])
        if len(usage) > 1 and not as_json:
            print("\n".join(usage[1:]), file=sys.stderr)
        return EXIT_USAGE
    except (OSError, ValueError, IrpdError) as exc:
        report_error(as_json, "UsageError", str(exc))
        return EXIT_USAGE
    key = f"{args.group} {getattr(args, 'action', '')}".strip()
    session = Session(ControlClient(path, timeout=args.timeout), json_output=args.json)
    try:
        every = {**COMMANDS, **REPORT_COMMANDS, **PLAN_COMMANDS}
        command = notifications if args.group == "notifications" else every[key]
        outcome: Outcome = command(session, args, files)
    except UsageError as exc:
        report_error(args.json, "UsageError", str(exc))
        return EXIT_USAGE
    except DaemonRefused as exc:
        report_error(args.json, exc.kind, exc.message, exc.details)
        found = exc.details.get("problems") if isinstance(exc.details, dict) else None
        if found and not args.json:
            print(problems(found, View()), file=sys.stderr)
        # still starting (waiting for the database): nothing ran; like an unreachable daemon
        return EXIT_UNREACHABLE if not_serving(exc) else EXIT_REFUSED
    except CredentialsRefused as exc:  # a wait for acknowledgement that cannot end well
        report_error(args.json, exc.kind, str(exc))
        return EXIT_REFUSED
    except DaemonUnreachable as exc:
        report_error(args.json, "DaemonUnreachable", f"{exc} ({origin})" if origin else str(exc))
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 130
    finally:
        session.client.close()
    sys.stdout.flush()
    return outcome.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
