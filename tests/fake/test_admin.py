"""The admin API and in-process views: ledger, request log, state, quota."""

from __future__ import annotations

from .helpers import Api, analysis_body

PROCESS = "/riskmodeler/v2/portfolios/12/process"


async def test_ledger_lists_every_submission(api: Api) -> None:
    await api.call("POST", PROCESS, body=analysis_body("A_LEDGER"), key="key-l")
    await api.call("POST", PROCESS, body=analysis_body("A_LEDGER"), key="key-l")
    await api.call("POST", PROCESS, body={"bad": True}, key="key-bad")
    status, _, ledger = await api.call("GET", "/__fake__/ledger")
    assert status == 200
    assert ledger["count"] == 3
    first, replay, rejected = ledger["entries"]
    assert first["requestId"] == "key-l"
    assert first["name"] == "A_LEDGER"
    assert first["type"] == "ANALYTICS_JOB"
    assert first["path"] == PROCESS
    assert first["body"]["jobName"] == "A_LEDGER"
    assert first["replay"] is False
    assert replay["replay"] is True
    assert replay["workflowId"] == first["workflowId"]
    assert rejected["status"] == 400
    assert rejected["workflowId"] is None
    _, _, newer = await api.call("GET", "/__fake__/ledger", params={"since": "2"})
    assert [e["seq"] for e in newer["entries"]] == [3]
    assert api.fake.ledger[0].body == first["body"]


async def test_request_log_records_every_moodys_request(api: Api) -> None:
    wid = await api.submit_analysis("A_LOG", key="key-log")
    await api.call("GET", f"/riskmodeler/v1/workflows/{wid}")
    await api.call("GET", "/riskmodeler/v1/workflows/123")
    _, _, log = await api.call("GET", "/__fake__/requests")
    assert log["total"] == 3
    assert log["insideRetryAfter"] == 0
    methods = [(r["method"], r["status"], r["outcome"]) for r in log["requests"]]
    assert methods == [("POST", 202, "ok"), ("GET", 200, "ok"), ("GET", 404, "ok")]
    assert log["requests"][0]["requestId"] == "key-log"
    assert [r.seq for r in api.fake.requests] == [1, 2, 3]  # admin calls are not logged


async def test_state_counts_and_quota_endpoint(api: Api) -> None:
    for i in range(3):
        await api.submit_analysis(f"A_STATE{i}")
    status, _, queue = await api.call("POST", "/__fake__/quota", body={"quota": 0})
    assert status == 200
    assert queue["paused"] is True
    _, _, state = await api.call("GET", "/__fake__/state")
    assert state["total"] == 3
    assert state["counts"]["QUEUED"] == 3
    assert state["ledgerEntries"] == 3
    assert state["queue"]["quota"] == 0
    status, _, error = await api.call("POST", "/__fake__/quota", body={"quota": -1})
    assert status == 400
    assert error["code"] == "FAKE-400"


async def test_in_process_workflow_view(api: Api) -> None:
    wid = await api.submit_analysis("A_VIEW")
    view = api.fake.workflow(wid)
    assert view is not None
    assert view == await api.workflow(wid)
    assert view["jobs"][0]["input"]["jobName"] == "A_VIEW"
    assert api.fake.workflow(1) is None
