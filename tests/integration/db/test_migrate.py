"""Migrations: applied once, recorded, idempotent, safe when run concurrently."""

from __future__ import annotations

import asyncio
import uuid

import sql
from irpd.db.database import Database
from irpd.db.migrate import migrate, pending
from irpd.db.provision import create_database, drop_database, with_database


async def test_fresh_database_applies_every_migration_once(pg_admin_dsn: str) -> None:
    name = f"irpd_m_{uuid.uuid4().hex[:10]}"
    await create_database(pg_admin_dsn, name)
    db = await Database.connect(with_database(pg_admin_dsn, name))
    try:
        shipped = [m.version for m in sql.load_migrations()]
        assert await pending(db) == shipped
        first = await migrate(db)
        assert list(first.applied) == shipped
        second = await migrate(db)
        assert second.applied == ()
        assert list(second.already) == shipped
        assert await pending(db) == []
    finally:
        await db.close()
        await drop_database(pg_admin_dsn, name)


async def test_two_concurrent_migrators_apply_each_migration_once(pg_admin_dsn: str) -> None:
    name = f"irpd_m_{uuid.uuid4().hex[:10]}"
    await create_database(pg_admin_dsn, name)
    dsn = with_database(pg_admin_dsn, name)
    one, two = await Database.connect(dsn), await Database.connect(dsn)
    try:
        reports = await asyncio.gather(migrate(one), migrate(two))
        applied = sorted(v for r in reports for v in r.applied)
        assert applied == [m.version for m in sql.load_migrations()]
        rows = await one.fetch("migration_applied")
        assert [r["version"] for r in rows] == applied
    finally:
        await one.close()
        await two.close()
        await drop_database(pg_admin_dsn, name)


async def test_template_clone_has_the_schema(db: Database) -> None:
    assert await pending(db) == []
    assert await db.fetchval("ping") is True
