"""irpctl's cycle-plan and batch-withdrawal commands (``cycle run|status|pause|resume|approve``,
``batch cancel|delete``), kept beside the core commands in :mod:`irpd.cli.commands`."""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from irpd.cli.commands import Command, Outcome, Session
from irpd.cli.common import positive_id
from irpd.cli.render import block

_MARK = {
    "COMPLETED": "done",
    "SKIPPED": "skip",
    "RUNNING": "run ",
    "STARTING": "run ",
    "FAILED": "FAIL",
    "AWAITING_APPROVAL": "gate",
    "WAITING": "wait",
}


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def add_cycle_actions(cycle: Any) -> None:
    """``cycle run|status|pause|resume|approve`` parsers."""
    run = cycle.add_parser(
        "run",
        help="run the cycle's plan: the daemon creates and submits each step's batch in order",
    )
    run.add_argument("cycle", help="cycle name")
    run.add_argument("--plan", type=Path, help="plan file (TOML); default: the shipped plan")
    run.add_argument("--until", metavar="STEP", help="stop after this step (and what it needs)")
    for name, text in (
        ("status", "the plan as a tree: each step's state"),
        ("pause", "stop starting plan steps"),
        ("resume", "advance a paused plan again"),
    ):
        cycle.add_parser(name, help=text).add_argument("cycle", help="cycle name")
    approve = cycle.add_parser("approve", help="approve a step that waits for an operator")
    approve.add_argument("cycle", help="cycle name")
    approve.add_argument("step", help="the step's id in the plan (see 'irpctl cycle status')")
    approve.add_argument("--by", default=None, help="who approves (default: your user name)")


def add_batch_actions(batch: Any) -> None:
    """``batch cancel|delete`` parsers."""
    cancel = batch.add_parser(
        "cancel", help="withdraw a batch: cancel every job not finished (Moody's too)"
    )
    delete = batch.add_parser("delete", help="delete a batch none of whose jobs was submitted")
    for action in (cancel, delete):
        action.add_argument("id", type=positive_id, help="batch id")
        action.add_argument("--reason", required=True, help="why (kept in the audit trail)")


def plan_tree(result: Mapping[str, Any]) -> str:
    """A cycle's plan for people: one line per step under its stage."""
    head = (
        f"cycle {result.get('cycle_name')}  plan {result.get('plan_name')}  "
        f"{result.get('status')}"
        + (f"  (until {result['until_step']})" if result.get("until_step") else "")
    )
    lines = [head]
    stage = None
    steps = result.get("steps") or []
    width = max((len(str(s.get("step"))) for s in steps), default=4)
    for step in steps:
        if step.get("stage") != stage:
            stage = step.get("stage")
            lines.append(f"  {stage}")
        batch = (
            f"batch {step['batch_id']} {step.get('batch_status')}" if step.get("batch_id") else ""
        )
        detail = step.get("waiting_for") or step.get("note") or batch
        status = str(step.get("status"))
        lines.append(
            f"    [{_MARK.get(status, '    ')}] {str(step.get('step')).ljust(width)}  "
            f"{status.ljust(17)} {detail}".rstrip()
        )
    return "\n".join(lines)


def cycle_plan(s: Session, a: argparse.Namespace, f: dict[str, Any]) -> Outcome:
    if a.action == "run":
        result = s.call(
            "cycle.run",
            cycle=a.cycle,
            plan_toml=f.get("plan_toml"),
            until=a.until,
            by=_operator(),
        )
        s.emit(result, plan_tree)
    elif a.action == "status":
        s.emit(s.call("cycle.status", cycle=a.cycle), plan_tree)
    elif a.action == "approve":
        result = s.call("cycle.approve", cycle=a.cycle, step=a.step, by=a.by or _operator())
        s.emit(result, block)
    else:
        s.emit(s.call(f"cycle.{a.action}", cycle=a.cycle), block)
    return Outcome()


def batch_withdraw(s: Session, a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    s.emit(s.call(f"batch.{a.action}", batch_id=a.id, reason=a.reason, by=_operator()), block)
    return Outcome()


PLAN_COMMANDS: dict[str, Command] = {
    **{f"cycle {x}": cycle_plan for x in ("run", "status", "pause", "resume", "approve")},
    **{f"batch {x}": batch_withdraw for x in ("cancel", "delete")},
}
