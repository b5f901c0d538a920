"""``irpctl``: the operator's command line for a running irpd (over its control socket).

Exit codes: 0 success; 1 the daemon refused (its message on stderr) or a waited-for batch
ended FAILED/CANCELLED; 2 usage error; 3 daemon unreachable or a wait timed out.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from irpd.cli.commands import COMMANDS, Outcome, Session
from irpd.cli.common import load
from irpd.cli.notifications import add_parser as add_notifications
from irpd.cli.notifications import notifications
from irpd.cli.paging import add_paging
from irpd.cli.plan_commands import PLAN_COMMANDS, add_batch_actions, add_cycle_actions
from irpd.cli.reports import REPORT_COMMANDS, add_report_parsers
from irpd.control.client import ControlClient, DaemonRefused, DaemonUnreachable
from irpd.errors import IrpdError

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

EPILOG = """\
socket: --socket PATH, else $IRPD_CONTROL_SOCKET, else the daemon's configuration
(--config, $IRPD_CONFIG or /etc/irpd/irpd.toml).

exit codes: 0 ok; 1 refused by the daemon (message on stderr) or batch ended FAILED/CANCELLED;
2 usage error; 3 daemon unreachable or wait timed out.

--json prints the daemon's result unchanged (stable keys, documented in docs/control.md).
"""


def _id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``irpctl`` argument parser."""
    p = argparse.ArgumentParser(
        prog="irpctl",
        description="Drive and watch a running irpd.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--socket", help="control socket path")
    p.add_argument("--config", help="irpd.toml (to find the socket)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for an answer")
    sub = p.add_subparsers(dest="group", required=True, metavar="COMMAND")

    sub.add_parser("status", help="daemon health, database, Moody's, jobs by status")
    sub.add_parser("types", help="registered batch types")

    cycle = sub.add_parser("cycle", help="cycles").add_subparsers(dest="action", required=True)
    for name in ("create", "archive"):
        cycle.add_parser(name, help=f"{name} a cycle").add_argument("name")
    add_paging(cycle.add_parser("list", help="list cycles"))
    add_cycle_actions(cycle)

    config = sub.add_parser("config", help="configurations (workbooks)").add_subparsers(
        dest="action", required=True
    )
    load_ = config.add_parser("load", help="validate (--dry-run) or register a workbook")
    load_.add_argument("file", type=Path)
    load_.add_argument("--cycle", required=True, help="cycle name")
    load_.add_argument("--dry-run", action="store_true", help="validate only; write nothing")
    config.add_parser("show", help="show a configuration").add_argument("id", type=_id)
    config_list = config.add_parser("list", help="list configurations")
    config_list.add_argument("--cycle")
    add_paging(config_list)

    _add_batch(sub)
    _add_job(sub)
    add_report_parsers(sub)
    add_notifications(sub, _id)
    return p


def _add_batch(sub: Any) -> None:
    batch = sub.add_parser("batch", help="batches").add_subparsers(dest="action", required=True)
    create = batch.add_parser("create", help="create a batch; prints its id")
    create.add_argument("type", help="batch type (see 'irpctl types')")
    create.add_argument("--config", dest="configuration_id", type=_id, required=True)
    create.add_argument("--step", type=_id)
    create.add_argument(
        "--allow-duplicate",
        metavar="REASON",
        help="create it although the configuration has a live batch of this type",
    )
    submit = batch.add_parser("submit", help="submit; waits until Moody's acknowledged all")
    submit.add_argument("id", type=_id)
    submit.add_argument("--no-wait", action="store_true")
    submit.add_argument(
        "--dry-run",
        action="store_true",
        help="check the jobs' Moody's references (pre-flight) and send nothing; exit 1 if any "
        "is missing",
    )
    submit.add_argument("--wait-timeout", type=float, default=600.0)
    for name, text in (("recon", "reconcile now"), ("show", "batch with its report")):
        batch.add_parser(name, help=text).add_argument("id", type=_id)
    configs = batch.add_parser("configs", help="job configurations (paged)")
    configs.add_argument("id", type=_id)
    add_paging(configs)
    batch_list = batch.add_parser("list", help="list batches (paged)")
    batch_list.add_argument("--status")
    add_paging(batch_list)
    jobs = batch.add_parser("jobs", help="jobs of a batch (paged)")
    jobs.add_argument("id", type=_id)
    jobs.add_argument("--status")
    add_paging(jobs)
    skipped = jobs.add_mutually_exclusive_group()
    skipped.add_argument("--skipped", dest="skipped", action="store_const", const=True)
    skipped.add_argument("--not-skipped", dest="skipped", action="store_const", const=False)
    add_batch_actions(batch)
    wait = batch.add_parser("wait", help="wait for COMPLETED (0), FAILED/CANCELLED (1)")
    wait.add_argument("id", type=_id)
    wait.add_argument("--timeout", dest="wait_timeout", type=float, default=3600.0)


def _add_job(sub: Any) -> None:
    job = sub.add_parser("job", help="jobs").add_subparsers(dest="action", required=True)
    for name, text in (
        ("show", "job, configuration, history, chain"),
        ("track", "poll now"),
        ("cancel", "cancel (sent to Moody's by the daemon)"),
    ):
        job.add_parser(name, help=text).add_argument("id", type=_id)
    tracking = job.add_parser("tracking", help="tracking history, oldest first (paged)")
    tracking.add_argument("id", type=_id)
    add_paging(tracking)
    jsubmit = job.add_parser("submit", help="queue one job")
    jsubmit.add_argument("id", type=_id)
    jsubmit.add_argument(
        "--force", action="store_true", help="already submitted: resubmit as a new job"
    )
    resubmit = job.add_parser("resubmit", help="new job on the same or an override config")
    resubmit.add_argument("id", type=_id)
    resubmit.add_argument("--override", type=Path, help="JSON file: new job configuration")
    resubmit.add_argument("--reason", help="why (required with --override)")
    for name in ("skip", "force-ok"):
        action = job.add_parser(name, help=f"{name} a job (reason required)")
        action.add_argument("id", type=_id)
        action.add_argument("--reason", required=True)


def socket_path(args: argparse.Namespace) -> Path:
    """Where the daemon listens."""
    if args.socket:
        return Path(args.socket)
    if os.environ.get("IRPD_CONTROL_SOCKET"):
        return Path(os.environ["IRPD_CONTROL_SOCKET"])
    config, _ = load(args.config)
    return config.socket_path


def _file_args(args: argparse.Namespace) -> dict[str, Any]:
    """Arguments read from local files (the daemon may not see the operator's files)."""
    extra: dict[str, Any] = {}
    if getattr(args, "file", None) is not None:
        extra["filename"] = args.file.name
        extra["content_b64"] = base64.b64encode(args.file.read_bytes()).decode()
    if getattr(args, "override", None) is not None:
        data = json.loads(args.override.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError(f"{args.override}: the override must be a JSON object")
        extra["override"] = data
    if getattr(args, "plan", None) is not None:
        extra["plan_toml"] = args.plan.read_text(encoding="utf-8")
    return extra


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``irpctl`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    key = f"{args.group} {getattr(args, 'action', '')}".strip()
    try:
        files = _file_args(args)
        path = socket_path(args)
    except (OSError, ValueError, IrpdError) as exc:
        print(f"irpctl: {exc}", file=sys.stderr)
        return EXIT_USAGE
    session = Session(ControlClient(path, timeout=args.timeout), json_output=args.json)
    try:
        every = {**COMMANDS, **REPORT_COMMANDS, **PLAN_COMMANDS}
        command = notifications if args.group == "notifications" else every[key]
        outcome: Outcome = command(session, args, files)
    except DaemonRefused as exc:
        print(f"irpctl: {exc.kind}: {exc.message}", file=sys.stderr)
        if exc.details and not args.json:
            session.print_problems(exc.details)
        elif exc.details:
            print(
                json.dumps(
                    {"error": {"type": exc.kind, "message": exc.message, "details": exc.details}},
                    default=str,
                )
            )
        return EXIT_REFUSED
    except DaemonUnreachable as exc:
        print(f"irpctl: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 130
    finally:
        session.client.close()
    return outcome.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
