"""Fixtures of the operations tests: ``Operations`` on a fresh database per test, with the real
workbook loader and transformers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from irpd.db.database import Database
from irpd.excel import load_workbook
from irpd.ops import Operations
from irpd.ops.results import CreatedBatch, CreatedCycle
from irpd.transformers import builtin_registry

from .support import Daemon, Fingerprint, fingerprint, register_jobs


@pytest.fixture
def ops(db: Database) -> Operations:
    """The operations over the test's fresh database."""
    return Operations(db, builtin_registry(), load_workbook)


@pytest.fixture
async def cycle(ops: Operations) -> CreatedCycle:
    """The ACTIVE cycle ``2026-Q1``."""
    return await ops.cycles.create_cycle("2026-Q1")


@pytest.fixture
async def configuration_id(ops: Operations, cycle: dict[str, Any]) -> int:
    """A VALID configuration of three generic jobs in the ACTIVE cycle."""
    return await register_jobs(ops, cycle["cycle_name"], 3)


@pytest.fixture
async def batch(ops: Operations, configuration_id: int) -> CreatedBatch:
    """An INITIATED ``multi_job`` batch of three jobs."""
    return await ops.batches.create_batch("multi_job", configuration_id)


@pytest.fixture
def daemon(db_dsn: str) -> Daemon:
    """The dispatcher stand-in on the test's database."""
    return Daemon(db_dsn)


@pytest.fixture
def snapshot(db_dsn: str) -> Callable[[], Awaitable[Fingerprint]]:
    """``await snapshot()``: the fingerprint of every irp_* table now."""

    async def take() -> Fingerprint:
        return await fingerprint(db_dsn)

    return take
