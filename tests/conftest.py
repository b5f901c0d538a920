"""Shared fixtures: a real PostgreSQL server for the whole session, a fresh database per test.

With ``IRPD_TEST_DSN`` set (a superuser DSN on any server, e.g.
``postgresql://postgres@127.0.0.1:5432/postgres``) tests use that server; otherwise an embedded
PostgreSQL (pgserver) is started in a temporary directory for the session. Every test that asks
for ``db`` gets its own database cloned from a migrated template.

Under pytest-xdist (``scripts/test.sh`` runs ``-n 2 --dist loadgroup``) the session is per
worker: each worker has its own embedded server (or template on the external one), databases
are uniquely named, fakes listen on free ports and processes keep their sockets in their own
``/tmp`` folders. A module's tests may land on either worker, so a test must not depend on
another's effects; tests that must share one process and run in order take
``@pytest.mark.xdist_group("name")``.
Figures a test reports (``user_properties`` named :data:`FIGURE`) travel with its report to the
controller's terminal summary.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from irpd.db.database import Database
from irpd.db.embedded import EmbeddedPostgres
from irpd.db.migrate import migrate
from irpd.db.provision import create_database, drop_database, with_database

#: ``IRPD_TEST_LONG=1 scripts/test.sh`` also runs the tests marked ``long`` (CI leaves them
#: out to keep the suite under 15 minutes on 2 cores; each has a shorter sibling in CI)
LONG_ENV = "IRPD_TEST_LONG"


#: ``user_properties`` name of a line for the "figures" section of the terminal summary
FIGURE = "irpd figure"
#: ``workerinput`` key: the controller's seed, shared by every xdist worker
_SEED = "irpd_shared_seed"
_SEED_STASH = pytest.StashKey[int]()


def shared_seed(config: pytest.Config) -> int:
    """One random seed for the whole run (the controller's, on an xdist worker)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and _SEED in workerinput:
        return int(workerinput[_SEED])
    if _SEED_STASH not in config.stash:
        config.stash[_SEED_STASH] = random.SystemRandom().randrange(1, 2**31)
    return config.stash[_SEED_STASH]


#: set to 80x24 in xdist workers (not by pytest's own run): put back as the controller had them,
#: so that processes the tests start (e.g. irpctl's tables) see what they see without xdist
_TERMINAL_ENV = ("COLUMNS", "LINES")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist controller: hand every worker the run's seed and the terminal environment."""
    node.workerinput[_SEED] = shared_seed(node.config)
    for name in _TERMINAL_ENV:
        node.workerinput[f"irpd_env_{name}"] = os.environ.get(name)


class _Figures:
    """Collects :data:`FIGURE` lines from test reports (local or a worker's) for the summary."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == FIGURE and str(value) not in self.lines:
                self.lines.append(str(value))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.lines:
            terminalreporter.section("chaos figures")
            for line in sorted(self.lines, key=lambda text: not text.startswith("run: ")):
                terminalreporter.write_line(line)


def pytest_configure(config: pytest.Config) -> None:
    """Register the figures collector; on an xdist worker, the controller's terminal
    environment."""
    config.pluginmanager.register(_Figures(), "irpd-figures")
    workerinput: dict[str, Any] = getattr(config, "workerinput", {})
    for name in _TERMINAL_ENV if workerinput else ():
        value = workerinput.get(f"irpd_env_{name}")
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


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
