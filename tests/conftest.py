"""Shared fixtures: a real PostgreSQL server for the whole session, a fresh database per test.

With ``IRPD_TEST_DSN`` set (a superuser DSN on any server, e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``) tests use that server; otherwise an embedded
PostgreSQL (pgserver) is started in a temporary directory for the session. Every test that asks
for ``db`` gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from irpd.db.database import Database
from irpd.db.embedded import EmbeddedPostgres
from irpd.db.migrate import migrate
from irpd.db.provision import create_database, drop_database, with_database

#: ``IRPD_TEST_LONG=1 scripts/test.sh`` also runs the tests marked ``long`` (CI leaves them
#: out to keep the suite under 15 minutes on 2 cores; each has a shorter sibling in CI)
LONG_ENV = "IRPD_TEST_LONG"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``long`` tests unless ``IRPD_TEST_LONG=1``."""
    if os.environ.get(LONG_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=f"long run; set {LONG_ENV}=1 to include it")
    for item in items:
        if item.get_closest_marker("long") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pg_admin_dsn() -> Iterator[str]:
    """A superuser DSN of the session's PostgreSQL server."""
    external = os.environ.get("IRPD_TEST_DSN")
    if external:
        yield external
        return
    workdir = Path(tempfile.mkdtemp(prefix="irpd-test-pg-"))
    server = EmbeddedPostgres(workdir / "pgdata")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
async def template_database(pg_admin_dsn: str) -> AsyncIterator[str]:
    """Name of a migrated database that each test clones."""
    name = f"irpd_tpl_{uuid.uuid4().hex[:10]}"
    await create_database(pg_admin_dsn, name)
    db = await Database.connect(with_database(pg_admin_dsn, name), max_size=1)
    try:
        await migrate(db)
    finally:
        await db.close()
    yield name
    await drop_database(pg_admin_dsn, name)


@pytest.fixture
async def db_dsn(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    """DSN of a fresh, migrated database for one test, dropped afterwards."""
    name = f"irpd_t_{uuid.uuid4().hex[:12]}"
    await create_database(pg_admin_dsn, name, template=template_database)
    yield with_database(pg_admin_dsn, name)
    await drop_database(pg_admin_dsn, name)


@pytest.fixture
async def db(db_dsn: str) -> AsyncIterator[Database]:
    """A connected :class:`Database` on a fresh migrated database."""
    database = await Database.connect(db_dsn, max_size=5)
    yield database
    await database.close()
