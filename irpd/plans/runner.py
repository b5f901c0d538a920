"""The plan runner: a supervised task that carries out :func:`statemachines.plan.advance`.

Every ``interval`` seconds it reads the running plans (one row per cycle) and their step runs
(a handful of rows), asks the pure rule what to do, and does it. Crash safety comes from the
database, not from this loop: a step's run is unique per (cycle, step), and its batch points
back at the run through a unique ``step_run_id``, so a kill -9 between creating a batch and
recording it is finished on the next pass (the batch is found, never created twice).

A transient database error skips one pass (logged); it never stops the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from irpd.db.database import Database, DatabaseUnavailable, Row, UniqueViolation
from irpd.errors import BatchError, DomainError, RetryableError
from irpd.ops.batches import DuplicateBatchError, EmptyBatchError
from irpd.ops.facade import Operations
from irpd.ops.plans import plan_from_data, step_states
from irpd.ops.ports import ReferenceChecker, TransformerRegistry
from irpd.ops.preflight import preflight_batch
from statemachines.batch import never_submitted
from statemachines.plan import Action, Plan, StepStatus, advance, plan_move

log = structlog.get_logger("irpd.plans")

#: seconds between passes; a plan's steps last minutes to hours, and a pass costs two small
#: queries per running plan
DEFAULT_INTERVAL = 2.0
_OPEN = [str(StepStatus.WAITING), str(StepStatus.AWAITING_APPROVAL), str(StepStatus.STARTING)]


class PlanRunner:
    """Advances every RUNNING plan of an ACTIVE cycle."""

    def __init__(
        self,
        db: Database,
        ops: Operations,
        transformers: TransformerRegistry,
        interval: float = DEFAULT_INTERVAL,
        checker: ReferenceChecker | None = None,
    ) -> None:
        self._db = db
        self._ops = ops
        self._transformers = transformers
        self._checker = checker
        self._interval = interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run a pass now (a batch reconciled, an operator approved or resumed a plan)."""
        self._wake.set()

    def following(
        self, reconcile: Callable[[int], Awaitable[Mapping[str, Any]]]
    ) -> Callable[[int], Awaitable[Mapping[str, Any]]]:
        """``reconcile`` that also wakes the runner when a batch's status changed, so the
        next step starts at once rather than at the next pass."""

        async def reconcile_then_wake(batch_id: int) -> Mapping[str, Any]:
            result = await reconcile(batch_id)
            if result.get("status") != result.get("previous_status"):
                self.wake()
            return result

        return reconcile_then_wake

    async def run(self) -> None:
        """The supervised loop."""
        while True:
            try:
                await self.run_once()
            except (DatabaseUnavailable, RetryableError) as transient:
                log.warning("plan_pass_skipped", error=str(transient))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)

    async def run_once(self) -> None:
        """One pass over every running plan."""
        for row in await self._db.fetch("plan_running"):
            await self._advance(row)

    async def _advance(self, row: Row) -> None:
        cycle_id = row["cycle_id"]
        try:
            plan = plan_from_data(row["plan"], self._transformers.names(), "stored plan")
        except DomainError as invalid:  # e.g. a batch type no longer registered
            expected, target = plan_move("pause")
            await self._db.fetchrow("plan_set_status", cycle_id, list(expected), target)
            log.error("plan_paused", cycle=row["cycle_name"], error=str(invalid))
            return
        runs = await self._db.fetch("plan_step_runs", cycle_id)
        progress = advance(plan, step_states(runs), row["until_step"])
        by_step = {run["step_name"]: run for run in runs}
        for action in progress.actions:
            await self._carry_out(row, plan, action, by_step.get(action.step))
        if progress.finished:
            expected, target = plan_move("complete")
            moved = await self._db.fetchrow("plan_set_status", cycle_id, list(expected), target)
            if moved is not None:
                log.info("plan_completed", cycle=row["cycle_name"], until=row["until_step"])

    async def _carry_out(self, row: Row, plan: Plan, action: Action, run: Row | None) -> None:
        cycle_id, step = row["cycle_id"], action.step
        if action.kind == "start":
            await self._start(row, plan, step)
            return
        current = run["status"] if run else str(StepStatus.WAITING)
        if action.kind == "await_approval":
            await self._db.fetchrow("step_run_upsert", cycle_id, step, action.target, _OPEN, None)
        else:  # complete_checkpoint, follow_batch
            if run is None:
                return
            await self._db.fetchrow(
                "step_run_finish", cycle_id, current, str(action.target), None, step
            )
        log.info(
            "plan_step_changed",
            cycle=row["cycle_name"],
            step=step,
            status=str(action.target),
            batch_id=run["batch_id"] if run else None,
        )

    async def _start(self, row: Row, plan: Plan, step: str) -> None:
        """WAITING/AWAITING_APPROVAL/STARTING → STARTING → (batch created, submitted) RUNNING."""
        cycle_id = row["cycle_id"]
        batch_type = plan.step(step).batch_type
        assert batch_type is not None  # checkpoints complete by approval, never start
        run = await self._db.fetchrow(
            "step_run_upsert", cycle_id, step, str(StepStatus.STARTING), _OPEN, None
        )
        if run is None:
            return  # another runner moved it on meanwhile
        batch = await self._db.fetchrow("step_batch_of_run", run["id"])
        if batch is None:
            batch = await self._create(row, step, batch_type, run["id"])
            if batch is None:
                return
        if never_submitted(batch["status"]):
            await self._preflight(row, step, batch["id"])
            try:
                await self._ops.batches.submit_batch(batch["id"])
            except BatchError as refused:
                await self._db.execute("step_run_note", run["id"], str(refused))
                log.warning("plan_step_blocked", cycle=row["cycle_name"], step=step,
                            error=str(refused))
                return
        if await self._db.fetchrow("step_run_started", run["id"], batch["id"]) is not None:
            log.info("plan_step_started", cycle=row["cycle_name"], step=step,
                     batch_id=batch["id"], batch_type=batch_type)

    async def _preflight(self, row: Row, step: str, batch_id: int) -> None:
        """Refuse, before sending, the step's jobs whose Moody's references are missing."""
        if self._checker is None:
            return
        try:
            checked = await preflight_batch(self._db, self._checker, batch_id)
        except RetryableError as unavailable:  # Moody's cannot answer: jobs resolve when sent
            log.warning("preflight_skipped", batch_id=batch_id, error=str(unavailable))
            return
        if checked["refused"]:
            log.warning(
                "plan_step_preflight_refused",
                cycle=row["cycle_name"],
                step=step,
                batch_id=batch_id,
                jobs=checked["refused"],
            )

    async def _create(
        self, row: Row, step: str, batch_type: str, run_id: int
    ) -> dict[str, Any] | Row | None:
        """The step's batch, created (or adopted from an operator); ``None`` when there is
        none to follow (the step was SKIPPED, or is blocked with a note)."""
        try:
            # step_id: the step's run, the cycle's step
            created = await self._ops.batches.create_batch(
                batch_type, row["configuration_id"], step_id=run_id, step_run_id=run_id
            )
        except EmptyBatchError as empty:
            note = f"no work for {batch_type} in this cycle's workbook ({empty})"
            await self._db.fetchrow(
                "step_run_finish", row["cycle_id"], "STARTING", "SKIPPED", note, step
            )
            log.info("plan_step_skipped", cycle=row["cycle_name"], step=step, reason=note)
            return None
        except DuplicateBatchError as duplicate:
            if duplicate.existing_id is None:
                return None
            adopted = await self._db.fetchrow("step_adopt_batch", duplicate.existing_id, run_id)
            if adopted is None:
                await self._db.execute("step_run_note", run_id, str(duplicate))
                return None
            log.info("plan_step_adopted_batch", cycle=row["cycle_name"], step=step,
                     batch_id=adopted["id"])
            return adopted
        except UniqueViolation:
            return await self._db.fetchrow("step_batch_of_run", run_id)  # another runner won
        except BatchError as refused:
            await self._db.execute("step_run_note", run_id, str(refused))
            log.warning("plan_step_blocked", cycle=row["cycle_name"], step=step,
                        error=str(refused))
            return None
        return {"id": created["batch_id"], "status": created["status"]}
