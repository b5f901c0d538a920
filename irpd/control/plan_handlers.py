"""Control commands of cycle plans and batch withdrawal (mixed into ``Handlers``)."""

from __future__ import annotations

from typing import Any

from irpd.engine.engine import Engine
from irpd.ops.facade import Operations
from irpd.plans import default_plan_text


class PlanCommands:
    """``cycle.run|status|pause|resume|approve`` and ``batch.cancel|delete``.

    ``wake_plans`` (set by the composition root) makes the plan runner act at once instead
    of at its next pass.
    """

    ops: Operations
    engine: Engine
    wake_plans: Any = None

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
        result = await self.ops.cancel_batch(a["batch_id"], a["reason"], a.get("by"))
        self.engine.cancel_requested()
        self.engine.batch_changed([result["batch_id"]])
        return result

    async def batch_delete(self, a: dict[str, Any]) -> Any:
        return await self.ops.delete_batch(a["batch_id"], a["reason"], a.get("by"))
