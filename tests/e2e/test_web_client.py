"""``irpd.client`` (sync and async) against a real ``irpd web``, daemon and fake Moody's: the
notebook helpers by their old names drive a batch to FAILED, resubmit the failed job with an
override and see the batch COMPLETED; refusals raise the spec's error types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from irpd.client import ApiError, AsyncClient, BatchError, Client, ConfigurationError, JobError

from . import scripted
from .stack import Stack
from .webstack import TOKEN, VIEWER_TOKEN, WebConsole
from .workbooks import generic_jobs_workbook


@pytest.fixture
def console(stack: Stack, tmp_path: Path) -> Any:
    web = WebConsole(stack.db_dsn, tmp_path)
    try:
        yield web
    finally:
        assert web.stop() == 0, web.log()[-4000:]


def test_helpers_drive_a_batch_through_a_failure(
    stack: Stack, console: WebConsole, tmp_path: Path
) -> None:
    irpd = Client(console.url, TOKEN, timeout=30)
    assert "e2e-operator-token" not in repr(irpd)
    cycle = irpd.create_cycle("client-cycle")
    workbook = generic_jobs_workbook(tmp_path, 4, "client")
    report = irpd.load_configuration_file(cycle["id"], workbook, register=False)
    assert report["valid"] is True
    configuration_id = irpd.load_configuration_file(cycle["id"], workbook)
    assert isinstance(configuration_id, int)
    assert irpd.read_configuration(configuration_id)["status"] == "VALID"

    batch_id = irpd.create_batch("multi_job", configuration_id)
    jobs = irpd.get_batch_jobs(batch_id)
    assert [j["status"] for j in jobs] == ["INITIATED"] * 4
    assert len(irpd.get_batch_job_configurations(batch_id, skipped=False)) == 4
    victim = int(jobs[1]["id"])
    stack.fake.script(scripted.name_of(stack.ctl, victim), "FAILED", "client failure")

    assert irpd.submit_batch(batch_id)["submitted_jobs"] == 4
    assert irpd.wait_batch(batch_id, timeout=90, every=0.5) == "FAILED"
    failed = irpd.get_batch_jobs(batch_id, status="FAILED")
    assert [int(j["id"]) for j in failed] == [victim]
    assert irpd.track_job_status(victim) == "FAILED"

    with pytest.raises(JobError, match="override"):
        irpd.resubmit_job(victim, override_reason="no data")  # a reason needs an override
    with pytest.raises(BatchError, match="not found"):
        irpd.read_batch(987654)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    with pytest.raises(ConfigurationError):
        irpd.load_configuration_file("client-cycle", broken)

    data = irpd.get_job_config(victim)["job_configuration_data"]
    new_id = irpd.resubmit_job(
        victim,
        job_configuration_data={**data, "priority": 9},
        override_reason="priority fixed",
        submit=True,
    )
    assert irpd.wait_batch(batch_id, timeout=90, every=0.5) == "COMPLETED"
    assert irpd.track_job_status(new_id) == "FINISHED"
    assert irpd.recon_batch(batch_id) == "COMPLETED"
    history = irpd.job_history(new_id)
    diff = next(e for e in history["lineage"] if e["job_id"] == new_id)["override_diff"]
    assert diff == [{"key": "priority", "before": data["priority"], "after": 9}]
    assert irpd.get_batch_jobs(batch_id, skipped=True)[0]["id"] == victim

    viewer = Client(console.url, VIEWER_TOKEN)
    with pytest.raises(ApiError) as refused:
        viewer.skip_job(new_id, "viewers cannot")
    assert refused.value.status == 403
    assert refused.value.error_type == "PermissionDenied"


async def test_async_client_reads_and_refuses(stack: Stack, console: WebConsole) -> None:
    async with AsyncClient(console.url, TOKEN) as irpd:
        cycle = await irpd.create_cycle("async-cycle")
        cycles = await irpd.list_cycles()
        assert [c["cycle_name"] for c in cycles] == ["async-cycle"]
        assert (await irpd.attention()) == {"batches": [], "jobs": []}
        with pytest.raises(BatchError, match="not found"):
            await irpd.get_batch_jobs(424242)
        with pytest.raises(JobError):
            await irpd.skip_job(424242)
        assert cycle["status"] == "ACTIVE"
