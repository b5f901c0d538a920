"""Fault injection: every kind, scoping, seeding, and the admin endpoint."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from irpd.moodys.fake import FakeMoodys, Faults

from .helpers import Api, analysis_body, frozen_settings

LIST = "/riskmodeler/v1/workflows"
PROCESS = "/riskmodeler/v2/portfolios/12/process"


async def requests_log(api: Api) -> list[dict[str, Any]]:
    _, _, body = await api.call("GET", "/__fake__/requests")
    records: list[dict[str, Any]] = body["requests"]
    return records


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors(api: Api, status: int) -> None:
    api.fake.set_faults(Faults(error_rate=1.0, error_statuses=(status,)))
    code, headers, body = await api.call("GET", LIST)
    assert code == status
    if status == 500:
        assert body["code"] == "INT-500"
    else:
        assert isinstance(body, str)
        assert "application/json" not in headers["Content-Type"]
    assert (await requests_log(api))[-1]["fault"] == f"error_{status}"


async def test_429_with_retry_after_opens_a_window_that_is_watched(api: Api) -> None:
    await api.call("GET", LIST)  # before any 429: never flagged
    api.fake.set_faults(
        Faults(rate_limit_rate=1.0, retry_after_seconds=30, path_prefixes=(PROCESS,))
    )
    status, headers, body = await api.call("POST", PROCESS, body=analysis_body("A_RL"))
    assert status == 429
    assert headers["Retry-After"] == "30"
    assert body["code"] == "RATE-429"
    assert api.fake.submissions() == []
    await asyncio.sleep(0.1)  # past the grace for requests already in flight
    assert (await api.call("GET", LIST))[0] == 200  # this one ignored the Retry-After
    records = await requests_log(api)
    assert [r["insideRetryAfter"] for r in records] == [False, False, True]
    _, _, state = await api.call("GET", "/__fake__/state")
    assert state["insideRetryAfter"] == 1


async def test_429_without_retry_after(api: Api) -> None:
    api.fake.set_faults(Faults(rate_limit_bare_rate=1.0, methods=("GET",)))
    status, headers, _ = await api.call("GET", LIST)
    assert status == 429
    assert "Retry-After" not in headers
    api.fake.set_faults(None)
    await asyncio.sleep(0.1)
    await api.call("GET", LIST)
    assert not any(r["insideRetryAfter"] for r in await requests_log(api))


async def test_html_error_page(api: Api) -> None:
    api.fake.set_faults(Faults(html_error_rate=1.0, html_error_status=502))
    status, headers, body = await api.call("GET", LIST)
    assert status == 502
    assert headers["Content-Type"].startswith("text/html")
    assert body.startswith("<!DOCTYPE html>")


async def test_hang_until_the_client_gives_up(api: Api) -> None:
    api.fake.set_faults(Faults(hang_rate=1.0, hang_seconds=60))
    timeout = aiohttp.ClientTimeout(total=0.3)
    with pytest.raises(asyncio.TimeoutError):
        await api.session.post(PROCESS, json=analysis_body("A_HANG"), timeout=timeout)
    for _ in range(200):
        records = await requests_log(api)
        if records:
            break
        await asyncio.sleep(0.01)
    assert records[-1]["outcome"] == "cancelled"
    assert records[-1]["fault"] == "hang"
    assert api.fake.ledger == []
    assert sum(api.fake.state().values()) == 0


async def test_latency_is_added(api: Api) -> None:
    api.fake.set_faults(Faults(latency_seconds=0.05))
    assert (await api.call("GET", LIST))[0] == 200
    assert (await requests_log(api))[-1]["fault"] == "latency"


async def test_drop_after_record_keeps_the_submission_and_sends_nothing(api: Api) -> None:
    api.fake.set_faults(Faults(drop_after_record_rate=1.0, methods=("POST",)))
    with pytest.raises(aiohttp.ClientError):
        await api.call("POST", PROCESS, body=analysis_body("A_DROP"), key="key-drop")
    [entry] = api.fake.ledger
    assert entry.accepted
    assert entry.workflow_id is not None
    assert entry.name == "A_DROP"
    assert sum(api.fake.state().values()) == 1
    record = (await requests_log(api))[-1]
    assert record["outcome"] == "dropped"
    assert record["status"] == 0
    api.fake.set_faults(None)
    status, headers, _ = await api.call(
        "POST", PROCESS, body=analysis_body("A_DROP"), key="key-drop"
    )
    assert status == 202
    assert headers["Location"] == entry.location
    assert len(api.fake.submissions("A_DROP")) == 1


@pytest.mark.parametrize(
    "rule",
    [Faults(malformed_json_rate=1.0), Faults(truncated_json_rate=1.0)],
    ids=["malformed", "truncated"],
)
async def test_broken_json_bodies(api: Api, rule: Faults) -> None:
    api.fake.set_faults(rule)
    async with api.session.get(LIST) as resp:
        assert resp.status == 200
        text = await resp.text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


async def test_204_on_status_reads_only(api: Api) -> None:
    wid = await api.submit_analysis("A_204")
    api.fake.set_faults(Faults(not_ready_rate=1.0))
    status, _, body = await api.call("GET", f"{LIST}/{wid}")
    assert status == 204
    assert body is None
    status, _, body = await api.call("GET", LIST, params={"ids": wid})
    assert status == 200
    assert body["totalMatchCount"] == 1


async def test_scope_by_method_and_path_prefix(api: Api) -> None:
    api.fake.set_faults(
        [
            Faults(methods=("POST",), error_rate=1.0, error_statuses=(503,)),
            Faults(path_prefixes=("/analysis-settings/",), error_rate=1.0),
        ]
    )
    assert (await api.call("GET", LIST))[0] == 200
    assert (await api.call("POST", PROCESS, body=analysis_body("A_S")))[0] == 503
    assert (await api.call("GET", "/analysis-settings/outputprofiles"))[0] >= 500


async def statuses(api: Api, count: int) -> list[int]:
    return [(await api.call("GET", LIST))[0] for _ in range(count)]


async def test_seeded_faults_are_reproducible(api: Api) -> None:
    rule = Faults(seed=3, error_rate=0.5, error_statuses=(500,))
    api.fake.set_faults(rule)
    first = await statuses(api, 20)
    api.fake.set_faults(rule)
    assert await statuses(api, 20) == first
    assert set(first) == {200, 500}


async def test_faults_from_settings_and_admin_endpoint() -> None:
    settings = frozen_settings(faults=(Faults(methods=("GET",), error_rate=1.0),))
    async with (
        FakeMoodys.running(settings) as fake,
        aiohttp.ClientSession(fake.base_url, headers={"Authorization": fake.api_key}) as session,
    ):
        api = Api(fake, session)
        assert (await api.call("GET", LIST))[0] >= 500
        _, _, current = await api.call("GET", "/__fake__/faults")
        assert current["rules"][0]["error_rate"] == 1.0
        status, _, replaced = await api.call(
            "POST", "/__fake__/faults", body=[{"not_ready_rate": 0.5, "seed": 9}]
        )
        assert status == 200
        assert replaced["rules"][0]["not_ready_rate"] == 0.5
        assert (await api.call("GET", LIST))[0] == 200
        status, _, error = await api.call("POST", "/__fake__/faults", body={"error_rate": 2})
        assert status == 400
        assert error["code"] == "FAKE-400"
        status, _, error = await api.call("POST", "/__fake__/faults", body={"colour": 1})
        assert status == 400
        assert "colour" in error["message"]
        status, _, cleared = await api.call("POST", "/__fake__/faults", body=[])
        assert status == 200
        assert cleared["rules"] == []
