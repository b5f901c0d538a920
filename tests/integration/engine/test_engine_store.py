"""The engine's batched, fenced compare-and-set writes on a real PostgreSQL."""

from __future__ import annotations

import uuid

from irpd.db.database import Database
from irpd.db.engine_store import EngineStore, Poll
from statemachines.job import JobStatus

from .moves import acknowledge, begin_submit, report, settle
from .seed import seed_jobs

ALL = list(range(64))


async def _owning(db: Database, worker: str = "w1") -> EngineStore:
    store = EngineStore(db, worker)
    await store.heartbeat("host", 1, "test")
    assert await store.claim(30.0, 64) == set(ALL)
    return store


async def test_submission_lifecycle_writes_status_and_audit(db: Database) -> None:
    await seed_jobs(db, 3)
    store = await _owning(db)
    queued = await store.queued_jobs(ALL, 10)
    assert [q.id for q in queued] == [1, 2, 3]
    keys = {q.id: uuid.uuid4() for q in queued}
    moved = await begin_submit(store, [(q.id, keys[q.id], f"irpd-{q.id}") for q in queued])
    assert moved == {1, 2, 3}
    assert await begin_submit(store, [(1, uuid.uuid4(), "again")]) == set()  # CAS: not INITIATED
    acks = await acknowledge(store, [(1, "1001", {"b": 1}, {"status": 202}, 5.0)])
    assert [(a.id, a.status, a.workflow_id) for a in acks] == [(1, "SUBMITTED", "1001")]
    settled = await settle(
        store, [(2, "refuse", "DS-507 duplicate"), (3, "complete_synchronously", None)]
    )
    assert sorted((m.id, m.status) for m in settled) == [(2, "ERROR"), (3, "FINISHED")]
    in_flight = await store.in_flight(ALL)
    assert [(j.id, j.status, j.workflow_id) for j in in_flight] == [(1, "SUBMITTED", "1001")]
    moved_reports = await report(store, [(1, "SUBMITTED", JobStatus.RUNNING, 40, 5.0, None)])
    assert [(m.id, m.status) for m in moved_reports] == [(1, "RUNNING")]
    stale = await report(store, [(1, "SUBMITTED", JobStatus.QUEUED, None, 5.0, None)])
    assert stale == []
    await store.record_polls([Poll(1, "RUNNING", 55, 10.0)])
    log = await db.fetch("engine_job_counts")
    assert {r["status"]: r["n"] for r in log} == {"RUNNING": 1, "ERROR": 1, "FINISHED": 1}


async def test_writes_are_fenced_by_the_shard_lease(db: Database) -> None:
    await seed_jobs(db, 2)
    owner = await _owning(db, "owner")
    intruder = EngineStore(db, "intruder")
    await intruder.heartbeat("host", 2, "test")
    assert await intruder.claim(30.0, 64) == set()
    assert await begin_submit(intruder, [(1, uuid.uuid4(), "x")]) == set()
    assert await begin_submit(owner, [(1, uuid.uuid4(), "irpd-1")]) == {1}
    await owner.stop_worker()
    assert await intruder.claim(30.0, 64) == set(ALL)
    assert await begin_submit(intruder, [(2, uuid.uuid4(), "irpd-2")]) == {2}
