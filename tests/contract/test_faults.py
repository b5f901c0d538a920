"""Every fault the fake offers, and what the client does about it (counted in its logs)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from structlog.testing import capture_logs

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import (
    MoodysAuthenticationError,
    MoodysBadRequest,
    MoodysConnectionError,
    MoodysError,
    MoodysForbidden,
    MoodysMalformedResponse,
    MoodysNotFound,
    MoodysRateLimited,
    MoodysServerError,
    MoodysTimeout,
)
from irpd.moodys.fake import FakeMoodys, Faults
from irpd.moodys.retry import RetryPolicy
from irpd.moodys.secret import Secret
from irpd.moodys.settings import Timeouts
from tests.processes import wait_until

ATTEMPTS = 4  # FAST_RETRY.max_attempts in conftest
GENERIC = {"batch_type": "default", "metadata": {}, "payload": 1}


async def submit_generic(client: MoodysClient, name: str = "FAULTY") -> str:
    result = await client.submit(GENERIC, workflow_name=name, request_id=uuid.uuid4())
    assert result.workflow_id is not None
    return result.workflow_id


def reads(fake: FakeMoodys) -> list[Any]:
    return [r for r in fake.requests if r.method == "GET"]


def posts(fake: FakeMoodys) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_server_errors_on_reads_stop_at_the_attempt_bound(
    client: MoodysClient, fake: FakeMoodys, status: int
) -> None:
    workflow_id = await submit_generic(client)
    rate = client.stats().current_rate
    fake.set_faults(Faults(methods=("GET",), error_rate=1.0, error_statuses=(status,)))
    with capture_logs() as logs, pytest.raises(MoodysServerError) as caught:
        await client.get_workflow(workflow_id)
    assert caught.value.http_status == status
    assert len(reads(fake)) == ATTEMPTS
    events = Counter(entry["event"] for entry in logs)
    assert events["moodys_retry"] == ATTEMPTS - 1
    assert events["moodys_request_failed"] == 1
    assert client.stats().retries == ATTEMPTS - 1
    # 502/503/504 (spec: back off) end the rate's slow start, once; no status halves the rate
    assert events["moodys_slow_start_ended"] == (0 if status == 500 else 1)
    assert client.stats().current_rate == rate


async def test_server_errors_on_a_keyed_post_retry_with_the_same_key(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    fake.set_faults(Faults(methods=("POST",), error_rate=1.0, error_statuses=(500,)))
    key = uuid.uuid4()
    with pytest.raises(MoodysServerError):
        await client.submit(GENERIC, workflow_name="KEYED", request_id=key)
    assert [r.request_id for r in posts(fake)] == [str(key)] * ATTEMPTS
    assert fake.submissions() == []


@pytest.mark.parametrize(("faults", "error"), [
    (Faults(methods=("POST",), error_rate=1.0, error_statuses=(503,)), MoodysServerError),
    (Faults(methods=("POST",), drop_after_record_rate=1.0), MoodysConnectionError),
    (Faults(methods=("POST",), rate_limit_rate=1.0, retry_after_seconds=0.0), MoodysRateLimited),
])
async def test_a_post_without_a_key_is_sent_exactly_once(
    client: MoodysClient, fake: FakeMoodys, faults: Faults, error: type[MoodysError]
) -> None:
    fake.set_faults(faults)
    body = {"name": "UNKEYED", "type": "PortfolioWorkflow",
            "operations": [{"label": "job", "operation": "process", "input": {}}]}
    with pytest.raises(error):
        await client.transport.request("POST", "/riskmodeler/v1/workflows", body=body)
    assert len(posts(fake)) == 1
    assert posts(fake)[0].request_id is None


async def test_retries_stop_at_the_total_time_bound(
    fake: FakeMoodys, settings_for: Any
) -> None:
    patient = RetryPolicy(max_attempts=50, base_delay=0.01, max_delay=0.01, max_elapsed=0.35)
    async with MoodysClient(settings_for(fake, retry=patient)) as client:
        fake.set_faults(Faults(methods=("GET",), rate_limit_rate=1.0, retry_after_seconds=0.1))
        with pytest.raises(MoodysRateLimited) as caught:
            await client.get_workflow("22800001")
    assert caught.value.retry_after == pytest.approx(0.1)
    assert 2 <= len(reads(fake)) <= 5, "Retry-After 0.1 s within 0.35 s allows a few sends"


async def test_a_bare_429_halves_the_rate_of_the_whole_client(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    initial = client.stats().current_rate
    fake.set_faults(Faults(methods=("GET",), rate_limit_bare_rate=1.0))
    with capture_logs() as logs, pytest.raises(MoodysRateLimited) as caught:
        await client.get_workflow("22800001")
    assert caught.value.retry_after is None
    stats = client.stats()
    assert stats.rate_limited == ATTEMPTS
    # each 429 halves the rate, but 429s within one halving interval count once
    assert initial / 2**ATTEMPTS <= stats.current_rate <= initial / 2
    assert sum(1 for entry in logs if entry["event"] == "moodys_rate_limited") == ATTEMPTS
    assert sum(1 for entry in logs if entry["event"] == "moodys_slow_start_ended") == 1


async def test_retry_after_holds_back_every_caller(fake: FakeMoodys, settings_for: Any) -> None:
    """One caller gets 429 + ``Retry-After: 2``; no request of any caller arrives inside."""
    async with MoodysClient(settings_for(fake)) as client:
        ids = [await submit_generic(client, f"RA_{n}") for n in range(5)]
        limited_path = f"/riskmodeler/v1/workflows/{ids[0]}"
        fake.set_faults(Faults(methods=("GET",), path_prefixes=(limited_path,),
                               rate_limit_rate=1.0, retry_after_seconds=2.0))
        stop = asyncio.Event()

        async def poll(workflow_id: str) -> None:
            while not stop.is_set():
                assert workflow_id in await client.get_workflows([workflow_id])
                await asyncio.sleep(0.02)

        pollers = [asyncio.create_task(poll(workflow_id)) for workflow_id in ids[1:]]
        await asyncio.sleep(0.1)
        limited = asyncio.create_task(client.get_workflow(ids[0]))
        await wait_until(lambda: any(r.status == 429 for r in fake.requests))
        fake.set_faults(None)
        assert await limited is not None
        stop.set()
        await asyncio.gather(*pollers)
        assert client.stats().rate_limited == 1
    records = fake.requests
    [rejected] = [r for r in records if r.status == 429]
    window_end = rejected.monotonic + 2.0
    answered = rejected.monotonic + rejected.duration + 0.05  # the fake's grace for in-flight
    assert not any(r.inside_retry_after for r in records)
    assert not [r for r in records if answered <= r.monotonic < window_end]
    for workflow_id in ids[1:]:
        mine = [r for r in records if workflow_id in r.query and r.monotonic > rejected.monotonic]
        assert mine, "every poller kept polling after the 429"
        assert min(r.monotonic for r in mine if r.monotonic >= answered) >= window_end
    retried = [r for r in records if r.path == limited_path and r.status == 200]
    assert len(retried) == 1
    assert retried[0].monotonic >= window_end


async def test_html_error_pages_become_clear_errors(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    fake.set_faults(Faults(methods=("GET",), html_error_rate=1.0, html_error_status=502))
    with pytest.raises(MoodysServerError) as caught:
        await client.get_workflow("22800001")
    text = str(caught.value)
    assert "502" in text
    assert "Bad Gateway" in text
    assert "<" not in text
    assert len(reads(fake)) == ATTEMPTS


@pytest.mark.parametrize("faults", [
    Faults(methods=("GET",), malformed_json_rate=1.0),
    Faults(methods=("GET",), truncated_json_rate=1.0),
])
async def test_broken_json_is_a_clear_retryable_error(
    client: MoodysClient, fake: FakeMoodys, faults: Faults
) -> None:
    workflow_id = await submit_generic(client)
    fake.set_faults(faults)
    reads_to_try: list[Callable[[], Awaitable[object]]] = [
        lambda: client.get_workflow(workflow_id),
        lambda: client.get_workflows([workflow_id]),
        lambda: client.model_profile("DLM CBHU v23 USFL"),
    ]
    for read in reads_to_try:
        before = len(reads(fake))
        with pytest.raises(MoodysMalformedResponse) as caught:
            await read()
        assert caught.value.http_status == 200
        assert "invalid JSON" in str(caught.value)
        assert len(reads(fake)) - before == ATTEMPTS


async def test_a_hanging_server_times_out(fake: FakeMoodys, settings_for: Any) -> None:
    settings = settings_for(
        fake,
        timeouts=Timeouts(connect=0.3, read=0.3, total=0.3),
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01, max_elapsed=5.0),
    )
    fake.set_faults(Faults(methods=("GET",), hang_rate=1.0, hang_seconds=30.0))
    async with MoodysClient(settings) as client:
        with pytest.raises(MoodysTimeout):
            await client.get_workflow("22800001")
        assert client.stats().requests_sent == 2


async def test_slow_responses_still_succeed(client: MoodysClient, fake: FakeMoodys) -> None:
    workflow_id = await submit_generic(client)
    fake.set_faults(Faults(latency_seconds=0.2))
    status = await client.get_workflow(workflow_id)
    assert status is not None
    assert reads(fake)[0].fault == "latency"


async def test_dropped_connection_after_a_recorded_submission_creates_one_workflow(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    fake.set_faults(Faults(methods=("POST",), drop_after_record_rate=1.0))
    key = uuid.uuid4()
    with capture_logs() as logs:
        result = await client.submit(GENERIC, workflow_name="DROPPED", request_id=key)
    mine = [e for e in fake.ledger if e.request_id == str(key)]
    assert [e.replay for e in mine] == [False, True]
    assert {e.workflow_id for e in mine} == {result.workflow_id}
    assert len(fake.submissions("DROPPED")) == 1
    assert [r.outcome for r in posts(fake)] == ["dropped", "ok"]
    assert any(e["event"] == "moodys_retry" and e["error"] == "MoodysConnectionError"
               for e in logs)


async def test_dropped_connections_on_every_step_of_an_import(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    fake.set_faults(Faults(methods=("POST",), drop_after_record_rate=1.0))
    config = {"batch_type": "mri_import", "metadata": {}, "database": "RM_EDM_202503_X",
              "portfolio": "PORT_A", "import_file": "F", "accounts_file": "a.txt",
              "locations_file": "l.txt"}
    result = await client.submit(config, workflow_name="MRI_X", request_id=uuid.uuid4())
    firsts = [e for e in fake.ledger if not e.replay]
    assert [e.operation for e in firsts] == ["create_bucket", "register_file", "register_file",
                                             "mri_import"]
    assert len([e for e in fake.ledger if e.replay]) == 4
    assert result.workflow_id == firsts[-1].workflow_id


async def test_a_concurrent_duplicate_waits_through_409_for_the_replay(
    fake: FakeMoodys, settings_for: Any
) -> None:
    patient = RetryPolicy(max_attempts=30, base_delay=0.05, max_delay=0.1, max_elapsed=20.0)
    fake.set_faults(Faults(methods=("POST",), latency_seconds=0.4))
    key = uuid.uuid4()
    async with MoodysClient(settings_for(fake, retry=patient)) as client:
        first = asyncio.create_task(client.submit(GENERIC, workflow_name="TWICE", request_id=key))
        await asyncio.sleep(0.1)
        second = await client.submit(GENERIC, workflow_name="TWICE", request_id=key)
        assert (await first).workflow_id == second.workflow_id
    statuses = [e.status for e in fake.ledger]
    assert 409 in statuses
    assert len(fake.submissions("TWICE")) == 1


async def test_wrong_and_forbidden_keys_are_permanent(
    start_fake: Any, settings_for: Any
) -> None:
    async with start_fake(forbidden_keys=("forbidden-key",)) as fake:
        async with MoodysClient(settings_for(fake, api_key=Secret("wrong-key"))) as client:
            with pytest.raises(MoodysAuthenticationError) as unauthenticated:
                await client.get_workflows(["1"])
        assert unauthenticated.value.code == "IAM-001"
        async with MoodysClient(settings_for(fake, api_key=Secret("forbidden-key"))) as client:
            with pytest.raises(MoodysForbidden):
                await client.get_workflow("1")
        assert len(fake.requests) == 2, "401 and 403 are not retried"
        bearer = settings_for(fake, api_key=Secret("wrong-key"),
                              bearer_token=Secret(fake.api_key))
        async with MoodysClient(bearer) as client:
            assert await client.get_workflows(["1"]) == {}


async def test_not_found_and_bad_requests_on_submission_are_permanent(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    with pytest.raises(MoodysNotFound) as missing:
        await client.transport.request("POST", "/riskmodeler/v1/storage/424242/path",
                                       body={"fileName": "a.txt"}, request_id=uuid.uuid4())
    assert missing.value.code == "STORAGE-404"
    settings = client.settings
    async with MoodysClient(type(settings)(base_url=settings.base_url, api_key=settings.api_key,
                                           retry=settings.retry)) as no_group:
        with pytest.raises(MoodysBadRequest):
            await no_group.transport.request(
                "POST", "/platform/model/v1/jobs", body={"type": "DLM"}, request_id=uuid.uuid4()
            )
    assert len(posts(fake)) == 2


async def test_under_random_faults_no_submission_is_duplicated(
    fake: FakeMoodys, settings_for: Any
) -> None:
    patient = RetryPolicy(max_attempts=12, base_delay=0.005, max_delay=0.02, max_elapsed=20.0)
    fake.set_faults(Faults(seed=3, error_rate=0.15, rate_limit_rate=0.1,
                           retry_after_seconds=0.0, drop_after_record_rate=0.15,
                           html_error_rate=0.05, truncated_json_rate=0.05))
    outcomes: dict[uuid.UUID, str | None] = {}
    async with MoodysClient(settings_for(fake, retry=patient)) as client:

        async def one(index: int) -> None:
            key = uuid.uuid4()
            try:
                result = await client.submit(GENERIC, workflow_name=f"CHAOS_{index}",
                                             request_id=key)
            except MoodysError:
                outcomes[key] = None
            else:
                outcomes[key] = result.workflow_id

        await asyncio.gather(*(one(n) for n in range(60)))
    assert all(r.request_id is not None for r in posts(fake)), "every POST carried its key"
    for key, workflow_id in outcomes.items():
        created = [e for e in fake.ledger
                   if e.request_id == str(key) and e.accepted and not e.replay]
        assert len(created) <= 1
        if workflow_id is not None:
            assert [e.workflow_id for e in created] == [workflow_id]
    assert sum(1 for w in outcomes.values() if w is not None) >= 55


async def test_submissions_feed_the_adaptive_submission_limit(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    for n in range(3):
        await submit_generic(client, f"FED-{n}")
    assert client.submission_limit.samples == 3  # one latency sample per accepted POST
    fake.set_faults(Faults(methods=("POST",), error_rate=1.0, error_statuses=(503,)))
    with pytest.raises(MoodysServerError):
        await client.submit(GENERIC, workflow_name="OVERLOADED", request_id=uuid.uuid4())
    assert client.submission_limit.overloads == 1
    assert client.submission_limit.samples == 3
