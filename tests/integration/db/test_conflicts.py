"""Deadlocks and serialization failures (issue 11): real ones, provoked on PostgreSQL, are
retried by the database layer; the lock an operator command takes on a batch never blocks the
engine's statements.

The deadlocks are built so that the statement under test waits first: PostgreSQL's deadlock
check runs in the process that has waited ``deadlock_timeout``, so the test's own connection
(with a long ``deadlock_timeout``) is never the victim.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from structlog.testing import capture_logs

import sql
from irpd.db import conflicts
from irpd.db.conflicts import ConflictRetry, conflicts_retried
from irpd.db.database import Database
from irpd.db.failures import ConcurrencyConflict

QUERIES = {
    **sql.load_queries(),
    "bump_both": "UPDATE conflict_t SET n = n + 1 WHERE id IN (1, 2)",
    "bump": "UPDATE conflict_t SET n = n + 1 WHERE id = $1",
}


@pytest.fixture
async def conflict_db(db_dsn: str) -> AsyncIterator[tuple[Database, Any]]:
    """A Database whose sessions detect deadlocks after 50 ms, and a plain connection (the
    'other transaction') that waits 10 s before checking."""
    other: Any = await asyncpg.connect(db_dsn)
    await other.execute(
        "CREATE TABLE conflict_t (id int PRIMARY KEY, n int NOT NULL);"
        "INSERT INTO conflict_t VALUES (1, 0), (2, 0);"
        "SET deadlock_timeout = '10s'"
    )
    pool = await asyncpg.create_pool(
        db_dsn, min_size=1, max_size=2, server_settings={"deadlock_timeout": "50ms"}
    )
    try:
        yield Database(pool, QUERIES, db_dsn), other
    finally:
        await pool.close()
        await other.close()


async def _waiting(other: Any) -> None:
    """Until some other session of the database waits for a lock."""
    for _ in range(500):
        waiting = await other.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the statement under test never waited for a lock")


async def _deadlock_against(other: Any, victim: asyncio.Task[Any]) -> None:
    """``other`` holds row 2; once ``victim`` waits for it (holding row 1), ``other`` asks
    for row 1: a deadlock that aborts ``victim``. ``other`` then commits."""
    await _waiting(other)
    await other.execute("UPDATE conflict_t SET n = n + 10 WHERE id = 1")
    await other.execute("COMMIT")


async def test_a_pool_statement_aborted_by_a_deadlock_is_run_again(
    conflict_db: tuple[Database, Any],
) -> None:
    db, other = conflict_db
    await other.execute("BEGIN; UPDATE conflict_t SET n = n + 10 WHERE id = 2")
    with capture_logs() as logs:
        statement = asyncio.create_task(db.execute("bump_both"))
        await _deadlock_against(other, statement)
        assert await statement == "UPDATE 2"
    rows = {r["id"]: r["n"] for r in await other.fetch("SELECT id, n FROM conflict_t")}
    assert rows == {1: 11, 2: 11}  # each change exactly once
    retried = [e for e in logs if e["event"] == "db_conflict_retried"]
    assert len(retried) == 1
    assert retried[0]["sqlstate"] == "40P01"
    assert retried[0]["query"] == "bump_both"
    assert retried[0]["scope"] == "statement"
    assert retried[0]["attempt"] == 1


async def test_an_operation_whose_transaction_deadlocked_is_run_again_whole(
    conflict_db: tuple[Database, Any],
) -> None:
    db, other = conflict_db
    runs = 0

    @conflicts_retried
    async def operation() -> int:
        nonlocal runs
        runs += 1
        async with db.transaction() as tx:
            await tx.execute("bump", 1)
            await tx.execute("bump", 2)
            return int(await tx.fetchval("ping"))

    await other.execute("BEGIN; UPDATE conflict_t SET n = n + 10 WHERE id = 2")
    with capture_logs() as logs:
        task = asyncio.create_task(operation())
        await _deadlock_against(other, task)
        assert await task == 1
    assert runs == 2
    rows = {r["id"]: r["n"] for r in await other.fetch("SELECT id, n FROM conflict_t")}
    assert rows == {1: 11, 2: 11}  # the aborted try left nothing behind
    retried = [e for e in logs if e["event"] == "db_conflict_retried"]
    assert [(e["query"], e["scope"]) for e in retried] == [
        ("bump", "test_an_operation_whose_transaction_deadlocked_is_run_again_whole"
         ".<locals>.operation")
    ]


async def test_a_conflict_inside_a_transaction_is_not_retried_alone(
    conflict_db: tuple[Database, Any],
) -> None:
    db, other = conflict_db
    await other.execute("BEGIN; UPDATE conflict_t SET n = n + 10 WHERE id = 2")

    async def transaction() -> None:
        async with db.transaction() as tx:
            await tx.execute("bump", 1)
            await tx.execute("bump", 2)

    task = asyncio.create_task(transaction())
    await _deadlock_against(other, task)
    with pytest.raises(ConcurrencyConflict) as raised:
        await task
    assert raised.value.sqlstate == "40P01"
    assert raised.value.kind == "ConcurrencyConflict"


async def test_conflicts_that_persist_are_reported_after_the_last_try(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(conflicts, "CONFLICT_RETRY", ConflictRetry(attempts=3, first_delay=0.0))
    runs = 0

    @conflicts_retried
    async def always_conflicting() -> None:
        nonlocal runs
        runs += 1
        raise ConcurrencyConflict("deadlock detected", sqlstate="40P01")

    with capture_logs() as logs, pytest.raises(ConcurrencyConflict):
        await always_conflicting()
    assert runs == 3
    assert [e["attempt"] for e in logs if e["event"] == "db_conflict_retried"] == [1, 2]


def test_the_back_off_is_jittered_and_bounded() -> None:
    retry = ConflictRetry(attempts=8, first_delay=0.02, max_delay=0.3)
    for attempt in range(1, 8):
        delays = {retry.delay(attempt) for _ in range(50)}
        assert len(delays) > 1
        assert all(0.0 <= d <= min(0.3, 0.02 * 2 ** (attempt - 1)) for d in delays)


async def test_an_operator_lock_on_a_batch_does_not_block_new_rows_referring_to_it(
    db: Database, db_dsn: str
) -> None:
    """The engine's statements create live-count rows (foreign key → FOR KEY SHARE on the
    batch) while holding job rows; an operator command holds its batch meanwhile. Were that
    lock FOR UPDATE, the engine would wait for the operator, who may wait for one of the
    engine's jobs: the deadlock of issue 11."""
    cycle = await db.fetchval("cycle_insert", "2026-Q1")
    assert cycle is not None
    other: Any = await asyncpg.connect(db_dsn)
    try:
        batch_id = await other.fetchval(
            "WITH c AS (INSERT INTO irp_configuration (cycle_id, configuration_file_name, "
            "configuration_data, status) SELECT id, 'x.xlsx', '{}', 'VALID' FROM irp_cycle "
            "RETURNING id) INSERT INTO irp_batch (configuration_id, batch_type) "
            "SELECT id, 'multi_job' FROM c RETURNING id"
        )
        async with db.transaction() as tx:
            await tx.execute("batch_lock", batch_id)
            await other.execute("SET lock_timeout = '2s'")
            await other.execute(
                "INSERT INTO irp_batch_job_count (batch_id, status, skipped, requested, n) "
                "VALUES ($1, 'SUBMITTING', false, false, 1)",
                batch_id,
            )
    finally:
        await other.close()
