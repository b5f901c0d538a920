"""Bad days with Moody's, in the engine. Workflows Moody's forgot: a job whose workflow stays
missing from status lookups for ``engine.lost_workflow_after`` becomes ERROR
(``declare_lost``), its batch reconciles, and the count survives a restart; an answer that
includes the workflow starts it over. An open circuit: submissions wait with their intent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import pytest

from irpd.config import EngineConfig
from irpd.db.database import Database
from irpd.db.engine_store import EngineStore
from irpd.engine.engine import Engine
from irpd.engine.supervisor import Supervisor
from irpd.moodys.circuit import CircuitSettings
from irpd.moodys.client import MoodysClient
from irpd.moodys.fake import FakeMoodys, FakeSettings, Faults

from .conftest import FAST, Rig, rig_on

# real time: workflows stay queued behind a paused quota for the whole test
SLOW_FAKE = FakeSettings(seed=5, time_scale=1.0, quota=0)


@pytest.fixture
async def slow_rig(db: Database) -> AsyncIterator[Rig]:
    async with rig_on(db, SLOW_FAKE) as rig:
        yield rig


async def _sql(rig: Rig, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(rig.db.dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _until(rig: Rig, query: str, *args: object, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not (await _sql(rig, query, *args))[0][0]:
        for supervisor in rig.supervisors:
            assert supervisor.failure is None, supervisor.failure
        assert asyncio.get_running_loop().time() < deadline, f"never true: {query}"
        await asyncio.sleep(0.1)


async def _submitted(rig: Rig, config: EngineConfig, count: int) -> tuple[int, Engine, Supervisor]:
    batch_id = await rig.multi_job_batch(count)
    engine = rig.engine(config=config)
    supervisor = await rig.start(engine)
    await rig.ops.batches.submit_batch(batch_id)
    engine.work_queued()
    await _until(
        rig,
        "SELECT count(*) = $2 FROM irp_job WHERE batch_id = $1 AND moodys_workflow_id IS NOT NULL",
        batch_id,
        count,
    )
    return batch_id, engine, supervisor


async def _forget_everything(rig: Rig) -> None:
    """Moody's restarted empty: a new fake on the same port."""
    port = rig.fake.port
    await rig.fake.stop()
    rig.fake = FakeMoodys(replace(SLOW_FAKE, port=port))
    await rig.fake.start()


async def test_a_forgotten_workflow_becomes_error_and_its_batch_fails(slow_rig: Rig) -> None:
    rig = slow_rig
    batch_id, _, _ = await _submitted(rig, replace(FAST, lost_workflow_after=1.0), 3)
    await _forget_everything(rig)
    batch = await rig.wait_batch(batch_id, ("FAILED",), timeout=60.0)
    assert batch["status"] == "FAILED"
    jobs = await rig.ops.batches.get_batch_jobs(batch_id)
    assert {j["status"] for j in jobs} == {"ERROR"}
    for job in jobs:
        unknown = f"workflow {job['moodys_workflow_id']} is unknown to Moody's"
        assert unknown in str(job["last_error"])
    logged = await _sql(
        rig,
        "SELECT previous_status, source, tracking_data ->> 'trigger' FROM irp_job_tracking_log"
        " WHERE job_status = 'ERROR' AND job_id = ANY($1::bigint[])",
        [j["id"] for j in jobs],
    )
    assert len(logged) == 3
    assert {(r[1], r[2]) for r in logged} == {("engine", "declare_lost")}
    assert {r[0] for r in logged} <= {"SUBMITTED", "QUEUED", "PENDING", "RUNNING"}
    # the operator can resubmit it: a new job on the same configuration
    child = await rig.ops.resubmissions.resubmit_job(jobs[0]["id"], None, None)
    assert child["job_id"] != jobs[0]["id"]


async def test_the_first_missing_answer_survives_a_restart(slow_rig: Rig) -> None:
    """An engine that will not give up for an hour notes the first "missing" answer; a new
    engine (a restart) counts from that stored moment, not from its own start."""
    rig = slow_rig
    patient = replace(FAST, lost_workflow_after=3600.0)
    batch_id, engine, supervisor = await _submitted(rig, patient, 2)
    await _forget_everything(rig)
    await _until(
        rig,
        "SELECT count(*) = 2 FROM irp_job WHERE batch_id = $1 AND moodys_missing_since IS NOT NULL",
        batch_id,
    )
    await rig.stop(engine, supervisor)
    jobs = await rig.ops.batches.get_batch_jobs(batch_id)
    assert {j["status"] for j in jobs} <= {"SUBMITTED", "QUEUED", "PENDING", "RUNNING"}
    # as if the daemon had been down for two hours
    await _sql(
        rig,
        "UPDATE irp_job SET moodys_missing_since = moodys_missing_since - interval '2 hours'"
        " WHERE batch_id = $1",
        batch_id,
    )
    await rig.start(rig.engine("w1", patient))
    await rig.wait_batch(batch_id, ("FAILED",), timeout=60.0)
    assert {j["status"] for j in await rig.ops.batches.get_batch_jobs(batch_id)} == {"ERROR"}


async def test_an_answer_that_includes_the_workflow_starts_the_count_over(slow_rig: Rig) -> None:
    rig = slow_rig
    patient = replace(FAST, lost_workflow_after=3600.0)
    batch_id, engine, supervisor = await _submitted(rig, patient, 2)
    await rig.stop(engine, supervisor)
    # missing for two hours as far as the database knows, but Moody's still has them
    await _sql(
        rig,
        "UPDATE irp_job SET moodys_missing_since = now() - interval '2 hours' WHERE batch_id = $1",
        batch_id,
    )
    await rig.start(rig.engine("w1", patient))
    await _until(
        rig,
        "SELECT count(*) = 2 FROM irp_job WHERE batch_id = $1 AND moodys_missing_since IS NULL",
        batch_id,
    )
    jobs = await rig.ops.batches.get_batch_jobs(batch_id)
    assert {j["status"] for j in jobs} <= {"SUBMITTED", "QUEUED", "PENDING", "RUNNING"}


async def test_submissions_refused_by_an_open_circuit_keep_their_intent_uncounted(
    slow_rig: Rig,
) -> None:
    """Moody's answers only 503: the circuit opens (after one failure here, and it never
    probes), the submissions are refused unsent and wait SUBMITTING with their intent and
    no attempt counted; the fake saw a handful of requests, and no workflow was created."""
    rig = slow_rig
    settings = replace(
        rig.client.settings,
        circuit=CircuitSettings(
            open_after=1, open_min_seconds=0.0, first_probe=3600.0, max_probe_interval=3600.0
        ),
    )
    await rig.client.close()
    rig.client = MoodysClient(settings)
    rig.fake.set_faults(Faults(methods=("POST",), error_rate=1.0, error_statuses=(503,)))
    batch_id = await rig.multi_job_batch(6)
    engine = Engine(
        EngineStore(rig.db, "w1"),
        rig.client,
        FAST,
        reconcile=rig.ops.recon.recon_batch,
        moodys_health=rig.client.health,
    )
    rig.engines.append(engine)
    await rig.start(engine)
    await rig.ops.batches.submit_batch(batch_id)
    engine.work_queued()
    await _until(
        rig,
        "SELECT count(*) = 6 FROM irp_job WHERE batch_id = $1 AND status = 'SUBMITTING'"
        " AND last_error LIKE 'MoodysUnavailable%'",
        batch_id,
    )
    rows = await _sql(
        rig,
        "SELECT submission_attempts, idempotency_key FROM irp_job WHERE batch_id = $1",
        batch_id,
    )
    assert {r[0] for r in rows} == {0}
    assert all(r[1] is not None for r in rows)
    assert rig.client.health.snapshot()["circuit"]["state"] == "open"
    assert rig.fake.context.requests.total <= 8  # at most the sends in flight when it opened
    assert not [e for e in rig.fake.ledger if e.workflow_id]


async def test_a_workflow_id_moodys_hands_out_twice_refuses_the_second_job(
    slow_rig: Rig,
) -> None:
    """Moody's restored empty numbers workflows from the same first id: the new submission's
    acknowledgement names a workflow another job holds. The job is refused (ERROR, saying
    why) instead of stopping the dispatcher's writer, and the first job keeps its workflow."""
    rig = slow_rig
    first_batch, engine, supervisor = await _submitted(rig, FAST, 1)
    workflow_of = "SELECT moodys_workflow_id FROM irp_job WHERE batch_id = $1"
    held = await _sql(rig, workflow_of, first_batch)
    await _forget_everything(rig)
    configuration = (await rig.ops.batches.read_batch(first_batch))["configuration_id"]
    created = await rig.ops.batches.create_batch(
        "multi_job", configuration, allow_duplicate="a second batch on the same ids"
    )
    second_batch = int(created["batch_id"])
    await rig.ops.batches.submit_batch(second_batch)
    engine.work_queued()
    await _until(
        rig, "SELECT count(*) = 1 FROM irp_job WHERE batch_id = $1 AND status = 'ERROR'",
        second_batch,
    )
    refused = await _sql(rig, "SELECT last_error FROM irp_job WHERE batch_id = $1", second_batch)
    assert f"workflow id {held[0][0]}, which another job already holds" in refused[0][0]
    assert await _sql(rig, workflow_of, first_batch) == held
    assert supervisor.failure is None
