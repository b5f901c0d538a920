"""Cycle plans run pass by pass on a real database; the duplicate-batch guard; batch cancel and
delete. Moody's is not involved: jobs are finished by a stand-in (``finish_all``)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from irpd.db.database import Database
from irpd.errors import BatchError, CycleError
from irpd.excel import load_workbook
from irpd.ops import Operations
from irpd.ops.batches import DuplicateBatchError
from irpd.ops.results import StepProgress
from irpd.plans.runner import PlanRunner
from irpd.transformers import builtin_registry
from irpd.transformers.registry import TransformerRegistry

from .support import Daemon, Fingerprint, finish_all, job_ids, run_to

TWO_STEPS = """
name = "two steps"

[[step]]
name = "one"
batch_type = "default"

[[step]]
name = "two"
batch_type = "multi_job"
after = ["one"]
"""


def _registry() -> TransformerRegistry:
    registry = builtin_registry()
    registry.add("nothing", lambda _data: [], description="finds no work")
    return registry


async def _rows(db: Database, sql: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(db.dsn)
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()


async def _complete(ops: Operations, dsn: str, batch_id: int) -> None:
    assert await finish_all(dsn, batch_id) > 0
    recon = await ops.recon.recon_batch(batch_id)
    assert recon["status"] == "COMPLETED"


def _batch_of(step: StepProgress) -> int:
    assert step["batch_id"] is not None, step
    return step["batch_id"]


async def _steps(ops: Operations, cycle: str) -> dict[str, StepProgress]:
    return {s["step"]: s for s in (await ops.plans.plan_status(cycle))["steps"]}


# --- duplicate guard ----------------------------------------------------------------------


async def test_a_second_live_batch_of_a_type_is_refused_naming_the_first(
    ops: Operations, batch: dict[str, Any], snapshot: Any
) -> None:
    before: Fingerprint = await snapshot()
    with pytest.raises(DuplicateBatchError, match=f"batch {batch['batch_id']} \\(INITIATED\\)"):
        await ops.batches.create_batch("multi_job", batch["configuration_id"])
    assert await snapshot() == before
    other = await ops.batches.create_batch(
        "multi_job", batch["configuration_id"], allow_duplicate="rerun with new settings"
    )
    assert other["duplicate_reason"] == "rerun with new settings"
    assert other["batch_id"] != batch["batch_id"]


async def test_concurrent_creates_make_exactly_one_batch(
    db_dsn: str, configuration_id: int
) -> None:
    pools = [await Database.connect(db_dsn, max_size=2) for _ in range(4)]
    try:
        each = [Operations(db, builtin_registry(), load_workbook) for db in pools]
        results = await asyncio.gather(
            *(o.batches.create_batch("multi_job", configuration_id) for o in each),
            return_exceptions=True,
        )
        created = [r for r in results if isinstance(r, dict)]
        refused = [r for r in results if isinstance(r, DuplicateBatchError)]
        assert len(created) == 1, results
        assert len(refused) == 3, results
        assert {r.existing_id for r in refused} == {created[0]["batch_id"]}
        count = await _rows(pools[0], "SELECT count(*) AS n FROM irp_batch")
        assert count[0]["n"] == 1
    finally:
        for db in pools:
            await db.close()


# --- cancel and delete ----------------------------------------------------------------------


async def test_cancel_withdraws_every_unfinished_job_and_frees_the_type(
    ops: Operations, db: Database, batch: dict[str, Any]
) -> None:
    batch_id = batch["batch_id"]
    result = await ops.withdrawals.cancel_batch(batch_id, "wrong configuration", "alice")
    assert result == {
        "batch_id": batch_id,
        "reason": "wrong configuration",
        "cancelled": 3,
        "cancel_requested": 0,
        "unchanged": 0,
    }
    assert (await ops.recon.recon_batch(batch_id))["status"] == "CANCELLED"
    audit = await _rows(db, "SELECT action, reason, actor FROM irp_batch_audit_log")
    assert audit == [{"action": "CANCEL", "reason": "wrong configuration", "actor": "alice"}]
    # a withdrawn batch is not live: the type can be created again without a reason
    again = await ops.batches.create_batch("multi_job", batch["configuration_id"])
    assert again["duplicate_reason"] is None


async def test_delete_removes_a_never_submitted_batch_and_keeps_an_audit_row(
    ops: Operations, db: Database, batch: dict[str, Any]
) -> None:
    batch_id = batch["batch_id"]
    deleted = await ops.withdrawals.delete_batch(batch_id, "created by mistake")
    assert deleted == {
        "batch_id": batch_id,
        "deleted": True,
        "jobs": 3,
        "reason": "created by mistake",
    }
    with pytest.raises(BatchError, match="not found"):
        await ops.batches.read_batch(batch_id)
    left = await _rows(db, "SELECT count(*) AS n FROM irp_job WHERE batch_id = $1", batch_id)
    assert left[0]["n"] == 0
    audit = await _rows(
        db, "SELECT batch_id, action, batch->>'jobs' AS jobs FROM irp_batch_audit_log"
    )
    assert audit == [{"batch_id": batch_id, "action": "DELETE", "jobs": "3"}]


async def test_delete_refuses_a_submitted_batch_and_changes_nothing(
    ops: Operations, batch: dict[str, Any], snapshot: Any
) -> None:
    await ops.batches.submit_batch(batch["batch_id"])
    before = await snapshot()
    with pytest.raises(BatchError, match="only a batch never submitted can be deleted"):
        await ops.withdrawals.delete_batch(batch["batch_id"], "too late")
    assert await snapshot() == before


async def test_cancel_refuses_a_batch_whose_jobs_have_all_ended_and_changes_nothing(
    ops: Operations, db_dsn: str, batch: dict[str, Any], daemon: Daemon, snapshot: Any
) -> None:
    # a cancel there used to answer "cancelled 0" and leave the batch live; the duplicate
    # guard advised that very cancel
    batch_id, config_id = batch["batch_id"], batch["configuration_id"]
    await ops.batches.submit_batch(batch_id)
    failed = (await job_ids(ops, batch_id))[0]
    await run_to(ops, daemon, failed, "RUNNING", "FAILED")
    await finish_all(db_dsn, batch_id)
    assert (await ops.recon.recon_batch(batch_id))["status"] == "FAILED"
    before = await snapshot()
    with pytest.raises(BatchError, match=(
        f"^Batch {batch_id} is FAILED: none of its jobs can be cancelled. Resubmit or skip its "
        "failed jobs, or create another with --allow-duplicate REASON.$"
    )):
        await ops.withdrawals.cancel_batch(batch_id, "withdraw")
    with pytest.raises(DuplicateBatchError, match=r"\(FAILED\)\. Resubmit or skip its failed"):
        await ops.batches.create_batch("multi_job", config_id)
    assert await snapshot() == before
    await ops.jobs.force_ok_job(failed, "checked by hand")
    assert (await ops.recon.recon_batch(batch_id))["status"] == "COMPLETED"
    before = await snapshot()
    with pytest.raises(BatchError, match=f"^Batch {batch_id} is COMPLETED: .* It is complete; "):
        await ops.withdrawals.cancel_batch(batch_id, "withdraw")
    with pytest.raises(DuplicateBatchError, match=(
        r"\(COMPLETED\)\. It is complete; to run the type again, create another with "
        "--allow-duplicate REASON.$"
    )):
        await ops.batches.create_batch("multi_job", config_id)
    assert await snapshot() == before


# --- plans ------------------------------------------------------------------------------------


async def test_a_plan_runs_its_steps_in_order_one_batch_each(
    db: Database, db_dsn: str, cycle: dict[str, Any], configuration_id: int
) -> None:
    ops = Operations(db, _registry(), load_workbook)
    runner = PlanRunner(db, ops, _registry())
    name = cycle["cycle_name"]
    started = await ops.plans.run_plan(name, TWO_STEPS, started_by="alice")
    assert started["status"] == "RUNNING"
    assert started["configuration_id"] == configuration_id

    await runner.run_once()
    steps = await _steps(ops, name)
    assert steps["one"]["status"] == "RUNNING"
    assert steps["two"]["waiting_for"] == "waits for one (RUNNING)"
    one = _batch_of(steps["one"])
    created = await ops.batches.read_batch(one)  # the batch carries its step (irp_step_run.id)
    run_id = (await _rows(db, "SELECT id FROM irp_step_run WHERE step_name = 'one'"))[0]["id"]
    assert (created["step_id"], created["step_name"]) == (run_id, "one")
    await runner.run_once()  # nothing new: still one batch
    assert len(await _rows(db, "SELECT id FROM irp_batch")) == 1

    await _complete(ops, db_dsn, one)
    await runner.run_once()  # one follows its batch → COMPLETED
    await runner.run_once()  # two starts
    steps = await _steps(ops, name)
    assert steps["one"]["status"] == "COMPLETED"
    assert steps["two"]["status"] == "RUNNING"
    two = _batch_of(steps["two"])
    await _complete(ops, db_dsn, two)
    await runner.run_once()
    await runner.run_once()
    status = await ops.plans.plan_status(name)
    assert status["status"] == "COMPLETED"
    times = await _rows(
        db, "SELECT id, created_ts, completed_ts FROM irp_batch ORDER BY id"
    )
    assert [t["id"] for t in times] == [one, two]
    assert times[1]["created_ts"] > times[0]["completed_ts"]


async def test_concurrent_runners_never_create_a_steps_batch_twice(
    db: Database, db_dsn: str, cycle: dict[str, Any], configuration_id: int
) -> None:
    pools = [await Database.connect(db_dsn, max_size=2) for _ in range(3)]
    try:
        ops = Operations(db, _registry(), load_workbook)
        await ops.plans.run_plan(cycle["cycle_name"], TWO_STEPS)
        runners = [
            PlanRunner(p, Operations(p, _registry(), load_workbook), _registry()) for p in pools
        ]
        await asyncio.gather(*(r.run_once() for r in runners))
        await asyncio.gather(*(r.run_once() for r in runners))
        batches = await _rows(db, "SELECT id, step_run_id FROM irp_batch")
        assert len(batches) == 1
        assert batches[0]["step_run_id"] is not None
    finally:
        for p in pools:
            await p.close()


async def test_a_crash_after_creating_the_batch_is_finished_not_repeated(
    db: Database, cycle: dict[str, Any], configuration_id: int
) -> None:
    ops = Operations(db, _registry(), load_workbook)
    await ops.plans.run_plan(cycle["cycle_name"], TWO_STEPS)
    # the runner marked the step STARTING and created its batch, then died before recording it
    run = await db.fetchrow(
        "step_run_upsert", cycle["id"], "one", "STARTING", ["WAITING"], None
    )
    assert run is not None
    created = await ops.batches.create_batch("default", configuration_id, step_run_id=run["id"])
    await PlanRunner(db, ops, _registry()).run_once()
    steps = await _steps(ops, cycle["cycle_name"])
    assert steps["one"]["status"] == "RUNNING"
    assert steps["one"]["batch_id"] == created["batch_id"]
    assert len(await _rows(db, "SELECT id FROM irp_batch")) == 1
    assert (await ops.batches.read_batch(created["batch_id"]))["status"] == "ACTIVE"


async def test_an_approval_gate_holds_the_step_until_approved(
    db: Database, db_dsn: str, cycle: dict[str, Any], configuration_id: int
) -> None:
    ops = Operations(db, _registry(), load_workbook)
    runner = PlanRunner(db, ops, _registry())
    gated = TWO_STEPS.replace('after = ["one"]', 'after = ["one"]\napproval = true')
    await ops.plans.run_plan(cycle["cycle_name"], gated)
    await runner.run_once()
    one = _batch_of((await _steps(ops, cycle["cycle_name"]))["one"])
    await _complete(ops, db_dsn, one)
    for _ in range(3):
        await runner.run_once()
    two = (await _steps(ops, cycle["cycle_name"]))["two"]
    assert two["status"] == "AWAITING_APPROVAL"
    assert two["batch_id"] is None
    assert "irpctl cycle approve" in str(two["waiting_for"])
    await ops.plans.approve_step(cycle["cycle_name"], "two", "bob")
    await runner.run_once()
    two = (await _steps(ops, cycle["cycle_name"]))["two"]
    assert two["status"] == "RUNNING"
    assert two["approved_by"] == "bob"


async def test_a_step_with_no_work_is_skipped_visibly_and_counts_as_done(
    db: Database, cycle: dict[str, Any], configuration_id: int
) -> None:
    ops = Operations(db, _registry(), load_workbook)
    plan = TWO_STEPS.replace('batch_type = "default"', 'batch_type = "nothing"')
    await ops.plans.run_plan(cycle["cycle_name"], plan)
    runner = PlanRunner(db, ops, _registry())
    await runner.run_once()
    await runner.run_once()
    steps = await _steps(ops, cycle["cycle_name"])
    assert steps["one"]["status"] == "SKIPPED"
    assert "no work for nothing" in str(steps["one"]["note"])
    assert steps["two"]["status"] == "RUNNING"


async def test_an_invalid_plan_is_refused_with_every_problem(
    ops: Operations, cycle: dict[str, Any], configuration_id: int, snapshot: Any
) -> None:
    before = await snapshot()
    bad = TWO_STEPS.replace('"multi_job"', '"no_such_type"').replace('["one"]', '["zero"]')
    with pytest.raises(CycleError) as caught:
        await ops.plans.run_plan(cycle["cycle_name"], bad)
    assert "unknown batch type 'no_such_type'" in str(caught.value)
    assert "unknown step 'zero'" in str(caught.value)
    with pytest.raises(CycleError, match="not valid TOML"):
        await ops.plans.run_plan(cycle["cycle_name"], "name = ")
    with pytest.raises(CycleError, match="has no step 'nope'"):
        await ops.plans.run_plan(cycle["cycle_name"], TWO_STEPS, until="nope")
    assert await snapshot() == before


async def test_a_plans_batch_cannot_be_deleted_and_manual_batches_are_adopted(
    db: Database, cycle: dict[str, Any], configuration_id: int
) -> None:
    ops = Operations(db, _registry(), load_workbook)
    manual = await ops.batches.create_batch("default", configuration_id)
    await ops.plans.run_plan(cycle["cycle_name"], TWO_STEPS)
    await PlanRunner(db, ops, _registry()).run_once()
    step = (await _steps(ops, cycle["cycle_name"]))["one"]
    assert step["batch_id"] == manual["batch_id"]  # adopted, not duplicated
    assert len(await job_ids(ops, manual["batch_id"])) == 1


async def test_cancel_asks_moodys_to_stop_jobs_in_flight_and_leaves_finished_ones(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    batch_id = batch["batch_id"]
    await ops.batches.submit_batch(batch_id)
    first, second, third = await job_ids(ops, batch_id)
    await run_to(ops, daemon, first, "RUNNING")
    await run_to(ops, daemon, second, "RUNNING", "FINISHED")
    result = await ops.withdrawals.cancel_batch(batch_id, "wrong portfolio")
    assert (result["cancel_requested"], result["cancelled"], result["unchanged"]) == (1, 1, 0)
    statuses = {j: (await ops.jobs.read_job(j))["status"] for j in (first, second, third)}
    assert statuses == {first: "CANCEL_REQUESTED", second: "FINISHED", third: "CANCELLED"}
