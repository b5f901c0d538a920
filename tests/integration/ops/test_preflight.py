"""Pre-flight against the fake Moody's over real HTTP and a real database: jobs whose
references are missing become ERROR before anything is sent; a dry run writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from irpd.moodys.client import MoodysClient
from irpd.moodys.fake import FakeMoodys, FakeSettings
from irpd.moodys.preflight import ReferenceChecker
from irpd.moodys.secret import Secret
from irpd.moodys.settings import MoodysSettings
from irpd.ops import Operations
from irpd.ops.preflight import preflight_batch
from irpd.samples import sample_path

from .support import Fingerprint

KEY = "preflight-test-key"


async def _client(strict: bool) -> AsyncIterator[MoodysClient]:
    settings = FakeSettings(seed=3, time_scale=0.0, api_keys=(KEY,), strict_references=strict)
    async with FakeMoodys.running(settings) as fake:
        client = MoodysClient(MoodysSettings(base_url=fake.base_url, api_key=Secret(KEY)))
        try:
            yield client
        finally:
            await client.close()


@pytest.fixture
async def strict_moodys() -> AsyncIterator[MoodysClient]:
    """A client of a strict fake: names it does not know find nothing."""
    async for client in _client(strict=True):
        yield client


@pytest.fixture
async def lenient_moodys() -> AsyncIterator[MoodysClient]:
    """A client of a lenient fake: unknown portfolios and treaties resolve."""
    async for client in _client(strict=False):
        yield client


async def _analysis_batch(ops: Operations, cycle: dict[str, Any]) -> int:
    loaded = await ops.configurations.load_configuration(
        cycle["cycle_name"], sample_path().read_bytes(), file_name="sample.xlsx"
    )
    batch = await ops.batches.create_batch("analysis", loaded["configuration_id"])
    return int(batch["batch_id"])


async def test_a_dry_run_names_every_missing_reference_and_writes_nothing(
    ops: Operations, cycle: dict[str, Any], strict_moodys: MoodysClient, snapshot: Any
) -> None:
    batch_id = await _analysis_batch(ops, cycle)
    before: Fingerprint = await snapshot()
    checked = await preflight_batch(
        ops.db, ReferenceChecker(strict_moodys), batch_id, dry_run=True
    )
    assert checked["dry_run"] is True
    assert checked["checked"] == len(checked["missing"]) > 0
    assert checked["refused"] == []
    first = checked["missing"][0]["missing"]
    assert any(m.startswith("portfolio '") and "in EDM '" in m for m in first), first
    assert await snapshot() == before


async def test_jobs_missing_a_reference_become_error_before_anything_is_sent(
    ops: Operations, cycle: dict[str, Any], strict_moodys: MoodysClient
) -> None:
    batch_id = await _analysis_batch(ops, cycle)
    checked = await preflight_batch(ops.db, ReferenceChecker(strict_moodys), batch_id)
    refused = checked["refused"]
    assert refused == [m["job_id"] for m in checked["missing"]]
    job = await ops.jobs.read_job(refused[0])
    assert job["status"] == "ERROR"
    assert str(job["last_error"]).startswith("pre-flight: portfolio '")
    history = await ops.tracking.job_history(refused[0])
    assert [row["job_status"] for row in history["tracking_log"]][-1:] == ["ERROR"]
    submitted = await ops.batches.submit_batch(batch_id)
    assert submitted["submitted_jobs"] == 0
    assert (await ops.recon.recon_batch(batch_id))["status"] == "FAILED"


async def test_nothing_is_refused_when_every_reference_exists(
    ops: Operations, cycle: dict[str, Any], lenient_moodys: MoodysClient
) -> None:
    batch_id = await _analysis_batch(ops, cycle)
    checked = await preflight_batch(ops.db, ReferenceChecker(lenient_moodys), batch_id)
    assert checked["missing"] == []
    assert checked["refused"] == []
    assert checked["checked"] > 0
