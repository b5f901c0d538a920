"""Cycle plans: start a cycle's run of a plan, show it, pause, resume, approve a step.

The plan itself is data (:mod:`statemachines.plan`); a run stores the validated plan with the
cycle, so editing the plan file later never changes a run in progress. The daemon's plan
runner (:mod:`irpd.plans.runner`) advances running plans; everything here is what an
operator asks for.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from typing import Any, Final

from irpd.db.database import Database, Row
from irpd.errors import CycleError
from irpd.ops import validate
from irpd.ops.cycles import CycleRef, cycle_ref, find_cycle
from irpd.ops.ports import TransformerRegistry
from irpd.ops.results import ApprovedStep, PlanState, PlanStatusSet, StepProgress, shaped
from irpd.ops.rows import plain
from statemachines.plan import (
    Plan,
    PlanError,
    PlanStatus,
    StepState,
    StepStatus,
    advance,
    parse_plan,
    plan_move,
)

MAX_PLAN_BYTES: Final = 256 * 1024
PLAN_STATUSES: Final = tuple(str(status) for status in PlanStatus)


def read_plan_text(text: str, batch_types: Iterable[str], source: str = "plan") -> Plan:
    """A validated plan from a plan file's TOML text; ``CycleError`` lists every problem."""
    if len(text.encode()) > MAX_PLAN_BYTES:
        raise CycleError(f"{source}: larger than {MAX_PLAN_BYTES} bytes")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as bad:
        raise CycleError(f"{source}: not valid TOML: {bad}") from None
    return plan_from_data(data, batch_types, source)


def plan_from_data(data: Mapping[str, Any], batch_types: Iterable[str], source: str) -> Plan:
    try:
        return parse_plan(data, batch_types)
    except PlanError as invalid:
        raise CycleError(f"{source}: " + "; ".join(invalid.problems)) from None


def step_states(runs: Iterable[Row]) -> dict[str, StepState]:
    """The runner's view of a cycle's step runs (``plan_step_runs`` rows)."""
    return {
        run["step_name"]: StepState(
            status=StepStatus(run["status"]),
            batch_id=run["batch_id"],
            batch_status=run["batch_status"],
            approved=run["approved_ts"] is not None,
        )
        for run in runs
    }


class CyclePlans:
    """Operator commands on cycle plans."""

    def __init__(self, db: Database, transformers: TransformerRegistry) -> None:
        self._db = db
        self._transformers = transformers

    def parse(self, text: str, source: str = "plan") -> Plan:
        """Validate a plan file's text against the registered batch types."""
        return read_plan_text(text, self._transformers.names(), source)

    async def run_plan(
        self,
        cycle: CycleRef,
        plan_text: str,
        until: str | None = None,
        started_by: str | None = None,
    ) -> PlanState:
        """Start running ``plan_text`` on the cycle's newest VALID/ACTIVE configuration.

        A cycle runs one plan: running it again (paused, or to go further with ``until``)
        keeps the stored plan and only changes how far it goes.
        """
        ref = cycle_ref(cycle, CycleError)
        plan = self.parse(plan_text)
        stop = None if until is None else validate.text("until", until, CycleError, max_length=200)
        if stop is not None and not plan.has_step(stop):
            raise CycleError(f"--until: the plan has no step '{stop}'.")
        who = validate.optional_reason("started_by", started_by, CycleError)
        async with self._db.transaction() as tx:
            row = await find_cycle(tx, ref, CycleError)
            if row["status"] != "ACTIVE":
                raise CycleError(f"Cycle '{row['cycle_name']}' is {row['status']}.")
            existing = await tx.fetchrow("plan_read", row["id"])
            if existing is not None:
                if existing["plan"] != plan.as_data():
                    raise CycleError(
                        f"Cycle '{row['cycle_name']}' already runs plan "
                        f"'{existing['plan_name']}', which differs from this one; a cycle's "
                        "plan cannot change once it runs."
                    )
                expected, target = plan_move("extend")
                await tx.fetchrow("plan_extend", row["id"], stop, list(expected), target)
            else:
                configuration = await tx.fetchrow("plan_configuration_of_cycle", row["id"])
                if configuration is None:
                    raise CycleError(
                        f"Cycle '{row['cycle_name']}' has no VALID configuration; load its "
                        "workbook first (irpctl config load FILE --cycle NAME)."
                    )
                await tx.fetchrow(
                    "plan_insert",
                    row["id"],
                    configuration["id"],
                    plan.name,
                    plan.as_data(),
                    stop,
                    who,
                )
        return await self.plan_status(row["id"])

    async def plan_status(self, cycle: CycleRef) -> PlanState:
        """The plan as a list of steps in order, each with its state and what it waits for."""
        ref = cycle_ref(cycle, CycleError)
        row = await find_cycle(self._db, ref, CycleError)
        stored = await self._db.fetchrow("plan_read", row["id"])
        if stored is None:
            raise CycleError(
                f"Cycle '{row['cycle_name']}' runs no plan; start one with "
                f"'irpctl cycle run {row['cycle_name']}'."
            )
        plan = plan_from_data(stored["plan"], self._transformers.names(), "stored plan")
        runs = await self._db.fetch("plan_step_runs", row["id"])
        by_step = {run["step_name"]: run for run in runs}
        progress = advance(plan, step_states(runs), stored["until_step"])
        steps: list[StepProgress] = []
        for step in plan.steps:
            run = by_step.get(step.name)
            steps.append(
                {
                    "step": step.name,
                    "stage": step.stage,
                    "batch_type": step.batch_type,
                    "after": list(step.after),
                    "start_when": step.start_when,
                    "approval": step.approval,
                    "status": run["status"] if run else str(StepStatus.WAITING),
                    "batch_id": run["batch_id"] if run else None,
                    "batch_status": run["batch_status"] if run else None,
                    "started_ts": plain(run["started_ts"]) if run else None,
                    "finished_ts": plain(run["finished_ts"]) if run else None,
                    "approved_by": run["approved_by"] if run else None,
                    "note": run["note"] if run else None,
                    "waiting_for": progress.waiting_for.get(step.name),
                }
            )
        columns = {key: value for key, value in stored.items() if key != "plan"}
        return shaped(PlanState, {**columns, "steps": steps})

    async def pause_plan(self, cycle: CycleRef) -> PlanStatusSet:
        """The runner stops starting steps (batches already sent keep running)."""
        return await self._set_status(cycle, "pause")

    async def resume_plan(self, cycle: CycleRef) -> PlanStatusSet:
        """The runner advances the plan again."""
        return await self._set_status(cycle, "resume")

    async def approve_step(self, cycle: CycleRef, step: str, approved_by: str) -> ApprovedStep:
        """Approve a step (before or once it waits for approval); the runner starts it."""
        ref = cycle_ref(cycle, CycleError)
        name = validate.text("step", step, CycleError, max_length=200)
        who = validate.reason("approved_by", approved_by, CycleError)
        row = await find_cycle(self._db, ref, CycleError)
        stored = await self._db.fetchrow("plan_read", row["id"])
        if stored is None:
            raise CycleError(f"Cycle '{row['cycle_name']}' runs no plan.")
        plan = plan_from_data(stored["plan"], self._transformers.names(), "stored plan")
        if not plan.has_step(name):
            raise CycleError(f"The plan of cycle '{row['cycle_name']}' has no step '{name}'.")
        approved = await self._db.fetchrow("step_run_approve", row["id"], name, who)
        if approved is None:
            raise CycleError(f"Step '{name}' has already started; there is nothing to approve.")
        return {"cycle_id": row["id"], "step": name, "approved_by": who}

    async def _set_status(self, cycle: CycleRef, trigger: str) -> PlanStatusSet:
        """Fire the plan machine's ``trigger``: a compare-and-set of the plan's status."""
        expected, target = plan_move(trigger)
        ref = cycle_ref(cycle, CycleError)
        row = await find_cycle(self._db, ref, CycleError)
        moved = await self._db.fetchrow("plan_set_status", row["id"], list(expected), target)
        if moved is None:
            stored = await self._db.fetchrow("plan_read", row["id"])
            if stored is None:
                raise CycleError(f"Cycle '{row['cycle_name']}' runs no plan.")
            raise CycleError(
                f"The plan of cycle '{row['cycle_name']}' is {stored['status']}; "
                f"it can become {target} only from {', '.join(expected)}."
            )
        return {"cycle_id": row["id"], "cycle_name": row["cycle_name"], "status": str(target)}
