"""Bad database days on a real server (each test on a database of its own): start-up waits for
a read-only or unreachable database and becomes ready when it answers; a read-only database
is an outage; a revoked privilege degrades the refused statement until it is granted again;
configuration errors exit 2, a transient failure of ``irpd db`` exits 1."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from structlog.testing import capture_logs

from irpd.config import Config, DatabaseConfig, StateConfig
from irpd.db.database import Database
from irpd.db.failures import DatabaseDegraded, DatabaseReadOnly, DatabaseUnavailable
from irpd.db.migrate import pending
from irpd.db.provision import create_database, database_of, drop_database, with_database
from irpd.engine.health import DatabaseHealth
from irpd.startup import open_when_ready
from irpd.systemd import Notifier
from tests.processes import clean_environment, wait_until
from tests.unit.test_systemd_notify import FakeServiceManager

#: a local port nothing listens on
CLOSED = "postgresql://postgres@127.0.0.1:1/irpd"


async def _admin(dsn: str, *statements: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _read_only(admin_dsn: str, name: str, on: bool) -> None:
    setting = (
        "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
    )
    await _admin(
        admin_dsn,
        f'ALTER DATABASE "{name}" {setting}',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND pid <> pg_backend_pid()",
    )


@pytest.fixture
async def empty_database(pg_admin_dsn: str) -> AsyncIterator[str]:
    """A database with no migrations applied yet (its name)."""
    name = f"irpd_t_{uuid.uuid4().hex[:12]}"
    await create_database(pg_admin_dsn, name)
    yield name
    await drop_database(pg_admin_dsn, name)


def _config(dsn: str, state: Path) -> Config:
    return Config(
        database=DatabaseConfig(dsn=dsn, pool_min_size=1, connect_retry_max=0.2),
        state=StateConfig(dir=state),
    )


async def test_start_up_waits_for_a_read_only_database_then_migrates(
    pg_admin_dsn: str, empty_database: str, tmp_path: Path
) -> None:
    await _read_only(pg_admin_dsn, empty_database, on=True)
    manager = FakeServiceManager(str(tmp_path / "notify.sock"))
    notifier = Notifier(manager.address)
    stop = asyncio.Event()
    config = _config(with_database(pg_admin_dsn, empty_database), tmp_path / "state")
    with capture_logs() as logs:
        opening = asyncio.create_task(open_when_ready(config, notifier, stop))
        await wait_until(lambda: any(e["event"] == "database_waiting" for e in logs), 30)
        assert not opening.done()
        waiting = next(e for e in logs if e["event"] == "database_waiting")
        assert waiting["reason"] == "read_only", waiting
        await _read_only(pg_admin_dsn, empty_database, on=False)
        opened = await asyncio.wait_for(opening, 60)
    assert opened is not None
    try:
        assert await pending(opened.db) == []  # migrated once writable
        assert any(e["event"] == "database_reached" for e in logs)
        statuses = [m.get("STATUS", "") for m in manager.pending()]
        assert any(s.startswith("waiting for the database: ") for s in statuses), statuses
    finally:
        await opened.close()
        notifier.close()
        manager.close()


async def test_start_up_wait_ends_on_stop(tmp_path: Path) -> None:
    manager = FakeServiceManager(str(tmp_path / "notify.sock"))
    notifier = Notifier(manager.address)
    stop = asyncio.Event()
    with capture_logs() as logs:
        opening = asyncio.create_task(
            open_when_ready(_config(CLOSED, tmp_path / "state"), notifier, stop)
        )
        await wait_until(lambda: any(e["event"] == "database_waiting" for e in logs), 30)
        stop.set()
        assert await asyncio.wait_for(opening, 30) is None
    waiting = next(e for e in logs if e["event"] == "database_waiting")
    assert waiting["reason"] == "unreachable"
    assert "ConnectionRefused" in waiting["error"]
    messages = manager.pending()
    assert any("EXTEND_TIMEOUT_USEC" in m for m in messages), messages
    notifier.close()
    manager.close()


async def test_read_only_database_is_an_outage_and_writable_again(
    pg_admin_dsn: str, db_dsn: str
) -> None:
    db = await Database.connect(db_dsn, max_size=2)
    health = DatabaseHealth()
    db.observe(health.record)
    name = database_of(db_dsn)
    try:
        await _read_only(pg_admin_dsn, name, on=True)
        errors: list[BaseException] = []
        for _ in range(5):  # the first call may meet the terminated connection
            try:
                await db.execute("batch_queue_jobs", 0)
            except DatabaseUnavailable as exc:
                errors.append(exc)
                if isinstance(exc, DatabaseReadOnly):
                    break
        assert isinstance(errors[-1], DatabaseReadOnly), errors
        assert health.snapshot()["reason"] == "read_only"
        assert not await db.ping()  # reads wait too: no half-working daemon
        await _read_only(pg_admin_dsn, name, on=False)
        await db.execute("batch_queue_jobs", 0)
        assert health.available
    finally:
        await db.close()


async def test_a_session_turned_read_only_is_replaced(db_dsn: str) -> None:
    """25006 on a pooled connection (the server went read-only under it): the statement fails
    as an outage with its SQLSTATE, and the pool's connections are replaced, so the next
    call runs on a fresh (here writable again) session."""
    db = await Database.connect(db_dsn, min_size=1, max_size=1)
    health = DatabaseHealth()
    db.observe(health.record)
    try:
        async with db.transaction() as tx:  # the one pooled session turns read-only
            await tx.execute_script("SET SESSION default_transaction_read_only = on")
        with pytest.raises(DatabaseReadOnly) as refused:
            await db.execute("batch_queue_jobs", 0)
        assert refused.value.sqlstate == "25006"
        assert health.snapshot()["reason"] == "read_only"
        await asyncio.sleep(0)  # the expiry runs as a task
        await db.execute("batch_queue_jobs", 0)
        assert health.available
    finally:
        await db.close()


def _as_user(dsn: str, user: str) -> str:
    parts = urlsplit(dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, ""))


async def test_revoked_privilege_degrades_until_granted(pg_admin_dsn: str, db_dsn: str) -> None:
    role = f"irpd_r_{uuid.uuid4().hex[:10]}"
    await _admin(pg_admin_dsn, f"CREATE ROLE {role} LOGIN")
    await _admin(
        db_dsn,
        f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}",
    )
    db = await Database.connect(_as_user(db_dsn, role), max_size=2)
    health = DatabaseHealth()
    db.observe(health.record)
    try:
        await _admin(db_dsn, f"REVOKE UPDATE ON irp_job FROM {role}")
        with capture_logs() as logs:
            for _ in range(3):
                with pytest.raises(DatabaseDegraded) as refused:
                    await db.execute("batch_queue_jobs", 0)
            assert await db.ping()  # the rest of the database still answers
        assert refused.value.sqlstate == "42501"
        assert [e["event"] for e in logs].count("database_degraded") == 1
        snap = health.snapshot()
        assert snap["available"] is True
        assert snap["state"] == "degraded"
        assert snap["degraded"][0]["query"] == "batch_queue_jobs"
        await _admin(db_dsn, f"GRANT UPDATE ON irp_job TO {role}")
        await db.execute("batch_queue_jobs", 0)
        assert health.state == "ok"
    finally:
        await db.close()
        await _admin(db_dsn, f"DROP OWNED BY {role}")
        await _admin(pg_admin_dsn, f"DROP ROLE {role}")


def _irpd_db_status(dsn: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = clean_environment(IRPD_DATABASE_DSN=dsn, IRPD_STATE_DIR=str(state))
    return subprocess.run(
        [sys.executable, "-m", "irpd.cli.main", "db", "status"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_exit_codes(pg_admin_dsn: str, tmp_path: Path) -> None:
    missing = _irpd_db_status(with_database(pg_admin_dsn, "irpd_no_such_db"), tmp_path)
    assert (missing.returncode, "irpd_no_such_db" in missing.stderr) == (2, True), missing
    syntax = _irpd_db_status("postgresql://postgres@127.0.0.1:notaport/x", tmp_path)
    assert (syntax.returncode, "not valid" in syntax.stderr) == (2, True), syntax
    down = _irpd_db_status(CLOSED, tmp_path)
    assert (down.returncode, "transient" in down.stderr) == (1, True), down
