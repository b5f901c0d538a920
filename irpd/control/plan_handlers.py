"""Control commands of cycle plans and batch withdrawal (mixed into ``Handlers``)."""

from __future__ import annotations

from typing import Any

import structlog

from irpd.engine.engine import Engine
from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import MoodysRetryableError
from irpd.moodys.preflight import ReferenceChecker
from irpd.ops.facade import Operations
from irpd.ops.preflight import preflight_batch
from irpd.ops.results import Preflight
from irpd.plans import default_plan_text

log = structlog.get_logger("irpd.control")


class PlanCommands:
    """``cycle.run|status|pause|resume|approve`` and ``batch.cancel|delete``.

    ``wake_plans`` (set by the composition root) makes the plan runner act at once instead
    of at its next pass.
    """

    ops: Operations
    engine: Engine
    moodys: MoodysClient
    wake_plans: Any = None

    async def preflight(self, batch_id: int, *, dry_run: bool) -> Preflight | None:
        """Pre-flight the jobs a submission of the batch would queue (docs/cycles.md).

        When Moody's cannot answer, a dry run fails with that error; a real submission goes
        ahead without the check (each job's references are resolved again when it is sent).
        """
        try:
            return await preflight_batch(
                self.ops.db, ReferenceChecker(self.moodys), batch_id, dry_run=dry_run
            )
        except MoodysRetryableError as unavailable:
            if dry_run:
                raise
            log.warning("preflight_skipped", batch_id=batch_id, error=str(unavailable))
            return None

    def _wake(self) -> None:
        if self.wake_plans is not None:
            self.wake_plans()

    async def cycle_run(self, a: dict[str, Any]) -> Any:
        text = a.get("plan_toml") or default_plan_text()
        result = await self.ops.plans.run_plan(a["cycle"], text, a.get("until"), a.get("by"))
        self._wake()
        return result

    async def cycle_status(self, a: dict[str, Any]) -> Any:
        return await self.ops.plans.plan_status(a["cycle"])

    async def cycle_pause(self, a: dict[str, Any]) -> Any:
        return await self.ops.plans.pause_plan(a["cycle"])

    async def cycle_resume(self, a: dict[str, Any]) -> Any:
        result = await self.ops.plans.resume_plan(a["cycle"])
        self._wake()
        return result

    async def cycle_approve(self, a: dict[str, Any]) -> Any:
        result = await self.ops.plans.approve_step(a["cycle"], a["step"], a["by"])
        self._wake()
        return result

    async def batch_cancel(self, a: dict[str, Any]) -> Any:
        result = await self.ops.withdrawals.cancel_batch(a["batch_id"], a["reason"], a.get("by"))
        self.engine.cancel_requested()
        self.engine.batch_changed([result["batch_id"]])
        return result

    async def batch_delete(self, a: dict[str, Any]) -> Any:
        return await self.ops.withdrawals.delete_batch(a["batch_id"], a["reason"], a.get("by"))
