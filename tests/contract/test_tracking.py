"""Status reads: single, batched (``ids=``), by name, 204, cancel, Platform jobs."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import InvalidJobConfiguration, MoodysNotFound, NotCancellable
from irpd.moodys.fake import FakeMoodys, Faults
from irpd.moodys.models import TERMINAL_STATUSES


async def submit_generic(client: MoodysClient, name: str, count: int = 1) -> list[str]:
    ids = []
    for _ in range(count):
        result = await client.submit({"batch_type": "default", "metadata": {}, "n": 1},
                                     workflow_name=name, request_id=uuid.uuid4())
        assert result.workflow_id is not None
        ids.append(result.workflow_id)
    return ids


def list_requests(fake: FakeMoodys) -> int:
    return sum(1 for r in fake.requests
               if r.method == "GET" and r.path == "/riskmodeler/v1/workflows")


async def test_get_workflow(client: MoodysClient) -> None:
    [workflow_id] = await submit_generic(client, "TRACK_1")
    status = await client.get_workflow(workflow_id)
    assert status is not None
    assert (status.workflow_id, status.name, status.type) == (workflow_id, "TRACK_1",
                                                              "USER_DEFINED")
    assert status.status == "QUEUED"
    assert status.submit_time is not None
    assert status.raw is not None
    assert status.raw["id"] == int(workflow_id)


async def test_unknown_workflow_is_not_found(client: MoodysClient, fake: FakeMoodys) -> None:
    with pytest.raises(MoodysNotFound) as caught:
        await client.get_workflow("999999999")
    assert caught.value.code == "WORKFLOW-511"
    assert len(fake.requests) == 1, "a 404 is not retried"


async def test_204_means_not_ready(client: MoodysClient, fake: FakeMoodys) -> None:
    [workflow_id] = await submit_generic(client, "TRACK_1")
    fake.set_faults(Faults(methods=("GET",), path_prefixes=("/riskmodeler/v1/workflows/",),
                           not_ready_rate=1.0))
    assert await client.get_workflow(workflow_id) is None
    reads = [r for r in fake.requests if r.method == "GET"]
    assert [(r.status, r.fault) for r in reads] == [(204, "not_ready")]


# 1,000 ids of ten digits do not fit one 8,000-byte URL (irpd.moodys.workflows): two requests
@pytest.mark.parametrize(("batch_size", "requests"), [(100, 10), (300, 4), (1000, 2)])
async def test_batched_lookup_of_1000_ids(
    fake: FakeMoodys, settings_for: Any, batch_size: int, requests: int
) -> None:
    async with MoodysClient(settings_for(fake, status_batch_size=batch_size)) as client:
        real = await submit_generic(client, "BATCH", count=120)
        unknown = [str(9_000_000_000 + n) for n in range(1000 - len(real))]
        ids = unknown[:440] + real + unknown[440:]
        assert len(ids) == 1000
        before = list_requests(fake)
        statuses = await client.get_workflows([*ids, real[0]])
        assert list_requests(fake) - before == requests
        assert set(statuses) == set(real)
        assert all(s.raw is None for s in statuses.values())
        assert all(s.name == "BATCH" for s in statuses.values())


async def test_batched_lookup_skips_ids_that_cannot_be_workflow_ids(
    client: MoodysClient,
) -> None:
    [workflow_id] = await submit_generic(client, "TRACK_1")
    statuses = await client.get_workflows(["not-a-number", workflow_id, ""])
    assert list(statuses) == [workflow_id]
    assert await client.get_workflows([]) == {}


async def test_find_by_name_pages_through_every_match(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    ids = await submit_generic(client, "SAME NAME", count=130)
    await submit_generic(client, "OTHER NAME")
    before = list_requests(fake)
    found = await client.find_workflows_by_name("SAME NAME")
    assert sorted(s.workflow_id for s in found) == sorted(ids)
    assert list_requests(fake) - before == 2
    assert await client.find_workflows_by_name("NOBODY") == []


async def test_cancel_and_not_cancellable(client: MoodysClient, fake: FakeMoodys) -> None:
    queued, finished = await submit_generic(client, "CANCEL_ME", count=2)
    await client.cancel(queued)
    status = await client.get_workflow(queued)
    assert status is not None
    assert status.status in {"CANCEL_REQUESTED", "CANCELLING", "CANCELLED"}
    fake.advance(100_000)
    after = await client.get_workflows([queued, finished])
    assert after[queued].status == "CANCELLED"
    assert after[finished].status in TERMINAL_STATUSES
    with pytest.raises(NotCancellable) as caught:
        await client.cancel(finished)
    assert caught.value.code == "WORKFLOW-515"
    assert caught.value.current_status == after[finished].status
    with pytest.raises(MoodysNotFound):
        await client.cancel("999999999")


async def test_platform_jobs_share_the_status_interface(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    transport = client.transport
    created = []
    for name in ("PLAT_1", "PLAT_2"):
        body = {"type": "DLM", "resourceType": "portfolio",
                "resourceUri": "/platform/riskdata/v1/exposures/1/portfolios/2",
                "settings": {"name": name}}
        response = await transport.request("POST", "/platform/model/v1/jobs", body=body,
                                           request_id=uuid.uuid4())
        assert response.status == 201
        created.append(response.location_id())
    jobs = client.platform_jobs("model")
    one = await jobs.get(created[0])
    assert one is not None
    assert (one.workflow_id, one.name, one.type, one.status) == (created[0], "PLAT_1", "DLM",
                                                                 "QUEUED")
    many = await jobs.get_many([*created, "123456789"])
    assert set(many) == set(created)
    assert all(isinstance(s.progress, int) for s in many.values())
    searches = [r for r in fake.requests if r.path == "/platform/model/v1/jobs"
                and r.method == "GET"]
    assert len(searches) == 1
    assert "jobId" in searches[0].query
    await jobs.cancel(created[1])
    cancelled = await jobs.get(created[1])
    assert cancelled is not None
    assert cancelled.status in {"CANCEL_REQUESTED", "CANCELLING", "CANCELLED"}
    with pytest.raises(MoodysNotFound) as wrong_api:
        await client.platform_jobs("riskdata").get(created[0])
    assert wrong_api.value.code == "JOB-001"
    with pytest.raises(InvalidJobConfiguration):
        client.platform_jobs("teleport")


async def test_reference_data_is_cached(client: MoodysClient, fake: FakeMoodys) -> None:
    for _ in range(3):
        await client.model_profile("DLM CBHU v23 USFL")
        await client.output_profile_id("Patched Portfolio Level Only (EP, ELT, Stats)")
    assert len(fake.requests) == 2
    client.clear_reference_cache()
    await client.model_profile("DLM CBHU v23 USFL")
    assert len(fake.requests) == 3
