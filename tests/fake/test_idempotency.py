"""``X-RMS-RequestId``: replay of the original answer, 409 while in flight, 24 h TTL."""

from __future__ import annotations

import asyncio

from irpd.moodys.fake import Faults

from .helpers import Api, analysis_body

PROCESS = "/riskmodeler/v2/portfolios/12/process"


async def test_repeated_key_replays_status_and_location(api: Api) -> None:
    body = analysis_body("ANALYSIS_I1")
    first = await api.call("POST", PROCESS, body=body, key="key-1")
    second = await api.call("POST", PROCESS, body=body, key="key-1")
    assert first[0] == second[0] == 202
    assert first[1]["Location"] == second[1]["Location"]
    assert sum(api.fake.state().values()) == 1
    original, replay = api.fake.ledger
    assert (original.replay, replay.replay) == (False, True)
    assert original.workflow_id == replay.workflow_id
    assert replay.request_id == "key-1"
    assert len(api.fake.submissions("ANALYSIS_I1")) == 1


async def test_a_new_key_is_a_new_submission(api: Api) -> None:
    body = analysis_body("ANALYSIS_I2")
    first = await api.call("POST", PROCESS, body=body, key="key-a")
    second = await api.call("POST", PROCESS, body=body, key="key-b")
    assert first[1]["Location"] != second[1]["Location"]
    assert len(api.fake.submissions("ANALYSIS_I2")) == 2


async def test_409_while_the_first_request_is_in_flight(api: Api) -> None:
    api.fake.set_faults(Faults(methods=("POST",), latency_seconds=0.5))
    body = analysis_body("ANALYSIS_I3")
    first = asyncio.create_task(api.call("POST", PROCESS, body=body, key="key-slow"))
    for _ in range(500):  # the key is claimed before the latency
        if len(api.fake.context.idempotency):
            break
        await asyncio.sleep(0.01)
    api.fake.set_faults(None)
    status, _, error = await api.call("POST", PROCESS, body=body, key="key-slow")
    assert status == 409
    assert error["code"] == "REQUEST-409"
    assert (await first)[0] == 202
    replay = await api.call("POST", PROCESS, body=body, key="key-slow")
    assert replay[0] == 202
    assert replay[1]["Location"] == (await first)[1]["Location"]
    assert len(api.fake.submissions("ANALYSIS_I3")) == 1
    assert [e.status for e in api.fake.ledger] == [409, 202, 202]


async def test_key_expires_after_24_simulated_hours(api: Api) -> None:
    body = analysis_body("ANALYSIS_I4")
    first = await api.call("POST", PROCESS, body=body, key="key-ttl")
    api.fake.advance(23 * 3600)
    assert (await api.call("POST", PROCESS, body=body, key="key-ttl"))[1]["Location"] == (
        first[1]["Location"]
    )
    api.fake.advance(3600)
    fresh = await api.call("POST", PROCESS, body=body, key="key-ttl")
    assert fresh[0] == 202
    assert fresh[1]["Location"] != first[1]["Location"]
    assert len(api.fake.submissions("ANALYSIS_I4")) == 2


async def test_a_rejected_request_frees_its_key(api: Api) -> None:
    bad: dict[str, object] = {"currency": {}}
    status, _, _ = await api.call("POST", PROCESS, body=bad, key="key-fix")
    assert status == 400
    status, _, _ = await api.call("POST", PROCESS, body=analysis_body("ANALYSIS_I5"), key="key-fix")
    assert status == 202
    assert [e.replay for e in api.fake.ledger] == [False, False]


async def test_replayed_201_keeps_its_body(api: Api) -> None:
    _, headers, _ = await api.call("POST", "/riskmodeler/v1/storage")
    bucket = headers["Location"].rsplit("/", 1)[1]
    path = f"/riskmodeler/v1/storage/{bucket}/path"
    first = await api.call("POST", path, body={"fileName": "a.txt"}, key="key-file")
    again = await api.call("POST", path, body={"fileName": "a.txt"}, key="key-file")
    assert first[0] == again[0] == 201
    assert first[1]["Location"] == again[1]["Location"]
    assert first[2] == again[2]
