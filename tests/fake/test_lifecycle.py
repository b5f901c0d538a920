"""Simulated time: stage transitions, progress, quota admission, pause, scripted and seeded
outcomes, cancellation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from irpd.moodys.fake import CancelDurations, FakeMoodys, StageDurations
from irpd.moodys.fake.clock import parse_iso
from irpd.moodys.fake.settings import DEFAULT_DURATIONS

from .helpers import Api, frozen_settings

FIXED = {**DEFAULT_DURATIONS, "ANALYTICS_JOB": StageDurations((10, 10), (20, 20), (100, 100))}
CANCEL = CancelDurations((5, 5), (10, 10))


@pytest.fixture
async def fixed_api(request: pytest.FixtureRequest) -> AsyncIterator[Api]:
    """An Api on a fake with fixed durations; ``@pytest.mark.parametrize`` not needed:
    settings overrides come from the test's ``fake_settings`` marker."""
    marker = request.node.get_closest_marker("fake_settings")
    overrides: dict[str, Any] = dict(marker.kwargs) if marker else {}
    settings = frozen_settings(durations=FIXED, cancel_durations=CANCEL, **overrides)
    async with (
        FakeMoodys.running(settings) as fake,
        aiohttp.ClientSession(fake.base_url, headers={"Authorization": fake.api_key}) as session,
    ):
        yield Api(fake, session)


def seconds_between(start: str, end: str) -> float:
    return round(parse_iso(end) - parse_iso(start), 3)


async def test_queued_pending_running_finished(fixed_api: Api) -> None:
    api = fixed_api
    wid = await api.submit_analysis("ANALYSIS_LIFE")
    seen = [(await api.workflow(wid))]
    for step in (10, 20, 50, 50):
        api.fake.advance(step)
        seen.append(await api.workflow(wid))
    assert [w["status"] for w in seen] == ["QUEUED", "PENDING", "RUNNING", "RUNNING", "FINISHED"]
    assert [w["progress"] for w in seen] == [0, 0, 0, 50, 100]
    assert seen[1]["startTime"] is None
    assert seen[2]["startTime"] is not None
    done = seen[-1]
    assert seconds_between(done["submitTime"], done["startTime"]) == 30
    assert seconds_between(done["startTime"], done["endTime"]) == 100
    assert done["output"]["analysisName"] == "ANALYSIS_LIFE"
    assert done["messages"] == []
    assert done["jobs"][0]["status"] == "FINISHED"
    assert done["jobs"][0]["percentComplete"] == 100


async def test_progress_rises_monotonically(api: Api) -> None:
    wid = await api.submit_analysis("ANALYSIS_RISE")
    progress = []
    for _ in range(40):
        api.fake.advance(150)
        workflow = await api.workflow(wid)
        progress.append(workflow["progress"])
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert len(set(progress)) > 5


@pytest.mark.fake_settings(quota=2)
async def test_quota_keeps_extras_queued_and_admits_in_submission_order(fixed_api: Api) -> None:
    api = fixed_api
    ids = [await api.submit_analysis(f"ANALYSIS_Q{i}") for i in range(5)]
    api.fake.advance(10)
    assert [await api.status(i) for i in ids] == [
        "PENDING",
        "PENDING",
        "QUEUED",
        "QUEUED",
        "QUEUED",
    ]
    api.fake.advance(120)  # the first two finish at +130
    assert [await api.status(i) for i in ids] == [
        "FINISHED",
        "FINISHED",
        "PENDING",
        "PENDING",
        "QUEUED",
    ]
    api.fake.advance(1000)
    workflows = [await api.workflow(i) for i in ids]
    starts = [parse_iso(w["startTime"]) for w in workflows]
    assert starts == sorted(starts)
    assert {w["status"] for w in workflows} == {"FINISHED"}
    _, _, state = await api.call("GET", "/__fake__/state")
    assert state["queue"]["quota"] == 2
    assert state["counts"]["FINISHED"] == 5


async def test_paused_mode_holds_everything_with_ds_521_then_resumes(fixed_api: Api) -> None:
    api = fixed_api
    api.fake.pause()
    wid = await api.submit_analysis("ANALYSIS_PAUSED")
    api.fake.advance(10_000)
    workflow = await api.workflow(wid)
    assert workflow["status"] == "QUEUED"
    assert workflow["messages"][0]["message"].startswith("DS-521")
    status, _, queue = await api.call("POST", "/__fake__/quota", body={"quota": None})
    assert status == 200
    assert queue["paused"] is False
    api.fake.advance(30)
    assert await api.status(wid) == "RUNNING"


async def test_scripted_failure_carries_messages_and_job_errors(fixed_api: Api) -> None:
    api = fixed_api
    api.fake.script("ANALYSIS_X", outcome="FAILED", message="Invalid treaty")
    wid = await api.submit_analysis("ANALYSIS_X")
    api.fake.advance(200)
    workflow = await api.workflow(wid)
    assert workflow["status"] == "FAILED"
    assert workflow["endTime"] is not None
    assert workflow["messages"] == [{"message": "Invalid treaty", "type": "ERROR"}]
    assert workflow["jobs"][0]["output"]["errors"] == [{"message": "Invalid treaty"}]
    assert workflow["jobs"][0]["status"] == "FAILED"
    assert workflow["progress"] < 100
    assert workflow["output"] == {}


async def test_script_through_admin_applies_to_live_workflows_and_counts_times(
    fixed_api: Api,
) -> None:
    api = fixed_api
    live = await api.submit_analysis("ANALYSIS_Y")
    status, _, result = await api.call(
        "POST",
        "/__fake__/script",
        body={"name": "ANALYSIS_Y", "outcome": "FAILED", "message": "boom", "times": 2},
    )
    assert status == 200
    assert result["changedExisting"] == 1
    again = await api.submit_analysis("ANALYSIS_Y")
    third = await api.submit_analysis("ANALYSIS_Y")
    api.fake.advance(500)
    assert [await api.status(w) for w in (live, again, third)] == ["FAILED", "FAILED", "FINISHED"]
    _, _, scripts = await api.call("GET", "/__fake__/script")
    assert scripts == []


async def outcomes(seed: int, rate: float) -> list[str]:
    settings = frozen_settings(seed=seed, failure_rate=rate)
    async with (
        FakeMoodys.running(settings) as fake,
        aiohttp.ClientSession(fake.base_url, headers={"Authorization": fake.api_key}) as session,
    ):
        api = Api(fake, session)
        ids = [await api.submit_analysis(f"ANALYSIS_S{i}") for i in range(24)]
        fake.advance(100_000)
        return [await api.status(i) for i in ids]


async def test_seeded_failure_rate_is_reproducible() -> None:
    first, again, other = await outcomes(7, 0.5), await outcomes(7, 0.5), await outcomes(8, 0.5)
    assert first == again
    assert first != other
    assert set(first) == {"FINISHED", "FAILED"}
    assert set(await outcomes(7, 0.0)) == {"FINISHED"}


async def test_cancel_a_queued_workflow(fixed_api: Api) -> None:
    api = fixed_api
    wid = await api.submit_analysis("ANALYSIS_C1")
    status, _, body = await api.call("DELETE", f"/riskmodeler/v1/workflows/{wid}")
    assert status == 202
    assert body is None
    seen = [await api.status(wid)]
    for step in (5, 10):
        api.fake.advance(step)
        seen.append(await api.status(wid))
    assert seen == ["CANCEL_REQUESTED", "CANCELLING", "CANCELLED"]
    workflow = await api.workflow(wid)
    assert workflow["startTime"] is None
    assert workflow["endTime"] is not None
    status, _, error = await api.call("DELETE", f"/riskmodeler/v1/workflows/{wid}")
    assert status == 400
    assert error["code"] == "WORKFLOW-515"
    assert "CANCELLED" in error["message"]
    assert wid in error["message"]


@pytest.mark.fake_settings(quota=1)
async def test_cancel_a_running_workflow_frees_its_slot(fixed_api: Api) -> None:
    api = fixed_api
    first = await api.submit_analysis("ANALYSIS_C2")
    second = await api.submit_analysis("ANALYSIS_C3")
    api.fake.advance(40)
    assert [await api.status(first), await api.status(second)] == ["RUNNING", "QUEUED"]
    progress = (await api.workflow(first))["progress"]
    assert (await api.call("DELETE", f"/riskmodeler/v1/workflows/{first}"))[0] == 202
    assert (await api.call("DELETE", f"/riskmodeler/v1/workflows/{first}"))[0] == 202
    api.fake.advance(14)
    assert [await api.status(first), await api.status(second)] == ["CANCELLING", "QUEUED"]
    api.fake.advance(1)
    assert [await api.status(first), await api.status(second)] == ["CANCELLED", "PENDING"]
    assert (await api.workflow(first))["progress"] == progress


async def test_cancel_finished_and_unknown(fixed_api: Api) -> None:
    api = fixed_api
    wid = await api.submit_analysis("ANALYSIS_C4")
    api.fake.advance(200)
    status, _, error = await api.call("DELETE", f"/riskmodeler/v1/workflows/{wid}")
    assert status == 400
    assert error["code"] == "WORKFLOW-515"
    assert "FINISHED" in error["message"]
    for path in (
        "/riskmodeler/v1/workflows/999",
        "/riskmodeler/v1/workflows/abc",
        "/riskmodeler/v1/workflows/\u00b2",  # isdigit() but not int(): a 404, not a 500
    ):
        status, _, error = await api.call("GET", path)
        assert status == 404
        assert error["code"] == "WORKFLOW-511"
        status, _, error = await api.call("DELETE", path)
        assert status == 404
        assert error["code"] == "WORKFLOW-511"


async def test_admin_clock_advances_simulated_time(fixed_api: Api) -> None:
    api = fixed_api
    wid = await api.submit_analysis("ANALYSIS_CLOCK")
    _, _, before = await api.call("GET", "/__fake__/clock")
    status, _, after = await api.call("POST", "/__fake__/clock", body={"seconds": 3600})
    assert status == 200
    assert seconds_between(before["now"], after["now"]) == 3600
    assert await api.status(wid) == "FINISHED"
    status, _, error = await api.call("POST", "/__fake__/clock", body={"seconds": -1})
    assert status == 400
    assert error["code"] == "FAKE-400"


async def test_user_defined_operations_run_one_after_another(fixed_api: Api) -> None:
    api = fixed_api
    body = {
        "name": "UDW_1",
        "type": "PortfolioWorkflow",
        "operations": [
            {"label": f"op{i}", "operation": "process", "input": {"i": i}} for i in range(4)
        ],
    }
    _, headers, _ = await api.call("POST", "/riskmodeler/v1/workflows", body=body)
    wid = headers["Location"].rsplit("/", 1)[1]
    api.fake.advance(10_000_000)  # terminal whatever the drawn durations
    done = await api.workflow(wid)
    assert [j["status"] for j in done["jobs"]] == ["FINISHED"] * 4
    assert [j["input"] for j in done["jobs"]] == [{"i": i} for i in range(4)]
    api.fake.script("UDW_2", message="op failed")
    _, headers, _ = await api.call(
        "POST", "/riskmodeler/v1/workflows", body={**body, "name": "UDW_2"}
    )
    api.fake.advance(10_000_000)
    failed = await api.workflow(headers["Location"].rsplit("/", 1)[1])
    states = [j["status"] for j in failed["jobs"]]
    assert failed["status"] == "FAILED"
    assert states.count("FAILED") == 1
    index = states.index("FAILED")
    assert states[:index] == ["FINISHED"] * index
    assert states[index + 1 :] == ["CANCELLED"] * (3 - index)
    assert failed["jobs"][index]["output"]["errors"] == [{"message": "op failed"}]
