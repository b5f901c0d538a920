"""The engine's batched, fenced compare-and-set writes on a real PostgreSQL."""

from __future__ import annotations

import uuid

import asyncpg

from irpd.db import moves as store_moves
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


async def test_report_columns_of_nulls_go_as_one_null_and_write_the_same(
    db: Database, db_dsn: str
) -> None:
    """A column every move of a chunk leaves NULL (audit data, progress, error) is sent as
    one NULL array (``irpd.db.moves.nullable``); the statement pads it and writes exactly
    what a list of NULLs wrote: kept progress and error, no audit data."""
    await seed_jobs(db, 4)
    store = await _owning(db)
    keys = [(i, uuid.uuid4(), f"irpd-{i}") for i in (1, 2, 3, 4)]
    await begin_submit(store, keys)
    await acknowledge(store, [(i, str(1000 + i), {}, {}, 5.0) for i in (1, 2, 3, 4)])
    assert store_moves.nullable([None, None]) is None
    assert store_moves.nullable([None, 3]) == [None, 3]
    # all NULL but the delay: progress, error and audit data go as NULL arrays
    moved = await report(
        store,
        [
            (1, "SUBMITTED", JobStatus.RUNNING, None, 5.0, None),
            (2, "SUBMITTED", JobStatus.RUNNING, None, 5.0, None),
        ],
    )
    assert sorted(m.id for m in moved) == [1, 2]
    # mixed: lists with their NULLs
    moved = await report(
        store,
        [
            (3, "SUBMITTED", JobStatus.RUNNING, 30, 5.0, None),
            (4, "SUBMITTED", JobStatus.FAILED, None, None, "DS-1 boom"),
        ],
    )
    assert sorted((m.id, m.status) for m in moved) == [(3, "RUNNING"), (4, "FAILED")]
    conn = await asyncpg.connect(db_dsn)
    try:
        rows = await conn.fetch(
            "SELECT j.id, j.status, j.progress, j.last_error, j.next_poll_at IS NOT NULL AS due,"
            "       l.tracking_data IS NULL AS no_data"
            "  FROM irp_job j JOIN irp_job_tracking_log l"
            "    ON l.job_id = j.id AND l.job_status = j.status ORDER BY j.id"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        (1, "RUNNING", None, None, True, True),
        (2, "RUNNING", None, None, True, True),
        (3, "RUNNING", 30, None, True, True),
        (4, "FAILED", None, "DS-1 boom", False, True),
    ]
