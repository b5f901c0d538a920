"""Fixtures for engine tests: the real engine, the real client and the fake Moody's server."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import openpyxl
import pytest

from irpd.config import EngineConfig, MoodysConfig
from irpd.db.database import Database
from irpd.db.engine_store import EngineStore
from irpd.engine.engine import Engine
from irpd.engine.supervisor import Supervisor
from irpd.excel.loader import load_workbook
from irpd.moodys.client import MoodysClient
from irpd.moodys.fake import FakeMoodys, FakeSettings
from irpd.ops.facade import Operations
from irpd.ops.results import Batch
from irpd.transformers.catalogue import builtin_registry
from irpd.wiring import moodys_settings

FAST = EngineConfig(
    poll_min_interval=0.2,
    poll_max_interval=1.0,
    tracker_tick=0.05,
    reconcile_debounce=0.05,
    dispatch_idle_interval=0.1,
    lease_ttl=3.0,
    drain_timeout=5.0,
)


def jobs_workbook(count: int) -> bytes:
    """A generic workbook whose ``jobs`` sheet feeds the ``multi_job`` batch type."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "jobs"
    sheet.append(["name", "portfolio", "threshold"])
    for index in range(count):
        sheet.append([f"job{index:05d}", f"PF{index % 7}", index % 100])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def client_for(fake: FakeMoodys) -> MoodysClient:
    """A production client pointed at the fake, with rate limits that do not slow tests."""
    config = MoodysConfig(
        base_url=fake.base_url,
        api_key=fake.api_key,
        verify_tls=False,
        requests_per_second=500.0,
        max_requests_per_second=2000.0,
        max_retry_seconds=10.0,
    )
    return MoodysClient(moodys_settings(config))


@dataclass
class Rig:
    """A database, the fake, a client, the operations and engines to start."""

    db: Database
    fake: FakeMoodys
    client: MoodysClient
    ops: Operations
    supervisors: list[Supervisor] = field(default_factory=list)
    engines: list[Engine] = field(default_factory=list)

    def engine(self, worker: str = "w1", config: EngineConfig = FAST) -> Engine:
        engine = Engine(
            EngineStore(self.db, worker), self.client, config, reconcile=self.ops.recon.recon_batch
        )
        self.engines.append(engine)
        return engine

    async def start(self, engine: Engine) -> Supervisor:
        supervisor = Supervisor()
        await engine.start(supervisor)
        self.supervisors.append(supervisor)
        return supervisor

    async def stop(self, engine: Engine, supervisor: Supervisor) -> None:
        await engine.drain(2.0)
        await supervisor.cancel_all(2.0)
        await engine.release()

    async def multi_job_batch(self, count: int) -> int:
        cycle = await self.ops.cycles.active_cycle() or await self.ops.cycles.create_cycle(
            "engine-tests"
        )
        loaded = await self.ops.configurations.load_configuration(
            cycle["cycle_name"], jobs_workbook(count), file_name="jobs.xlsx"
        )
        batch = await self.ops.batches.create_batch("multi_job", loaded["configuration_id"])
        return int(batch["batch_id"] if "batch_id" in batch else batch["id"])

    async def wait_batch(
        self, batch_id: int, statuses: tuple[str, ...] = ("COMPLETED",), timeout: float = 60.0
    ) -> Batch:
        deadline = time.monotonic() + timeout
        while True:
            batch = await self.ops.batches.read_batch(batch_id)
            if batch["status"] in statuses:
                return batch
            for supervisor in self.supervisors:
                assert supervisor.failure is None, supervisor.failure
            if time.monotonic() > deadline:
                jobs = await self.ops.batches.get_batch_jobs(batch_id)
                counts: dict[str, int] = {}
                for job in jobs:
                    counts[job["status"]] = counts.get(job["status"], 0) + 1
                raise AssertionError(f"batch {batch_id} is {batch['status']}; jobs {counts}")
            await asyncio.sleep(0.1)


@asynccontextmanager
async def rig_on(db: Database, settings: FakeSettings) -> AsyncIterator[Rig]:
    """A rig on a fake with ``settings``; its engines are stopped and the client closed
    at the end (and the fake, which a test may have replaced)."""
    fake = FakeMoodys(settings)
    await fake.start()
    client = client_for(fake)
    rig = Rig(db, fake, client, Operations(db, builtin_registry(), load_workbook))
    try:
        yield rig
    finally:
        for supervisor in rig.supervisors:
            await supervisor.cancel_all(2.0)
        await rig.client.close()  # (and the fake and client a test may have replaced)
        await rig.fake.stop()


@pytest.fixture
async def rig(db: Database) -> AsyncIterator[Rig]:
    async with rig_on(db, FakeSettings(seed=3, time_scale=3600.0)) as rig:
        yield rig


Waiter = Callable[[], Awaitable[None]]
