"""Platform jobs, minimal: create, get, search (bare array), patch (cancel, priority)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .helpers import Api

GROUP = {"x-rms-resource-group-id": "6f1c-rg"}
MODEL_JOB = {
    "type": "DLM",
    "resourceType": "portfolio",
    "resourceUri": "/platform/riskdata/v1/exposures/1/portfolios/2",
    "settings": {"name": "PLATFORM_DLM_1", "modelProfileId": 4001},
}


async def create(api: Api, api_name: str, body: dict[str, Any]) -> str:
    status, headers, _ = await api.call(
        "POST", f"/platform/{api_name}/v1/jobs", body=body, headers=GROUP
    )
    assert status == 201
    assert re.match(
        rf"^http://127\.0\.0\.1:\d+/platform/{api_name}/v1/jobs/\d+$", headers["Location"]
    )
    return headers["Location"].rsplit("/", 1)[1]


@pytest.mark.parametrize(
    ("api_name", "body", "kind"),
    [
        ("model", MODEL_JOB, "DLM"),
        (
            "import",
            {"importType": "MRI", "settings": {"folderId": "f", "delimiter": "TAB"}},
            "MRI_IMPORT",
        ),
        ("geohaz", {"resourceType": "portfolio", "settings": {"layers": []}}, "GEOHAZ"),
        ("grouping", {"settings": {"analysisName": "PG"}}, "GROUPING"),
        ("export", {"exportType": "RDM_DATABRIDGE", "settings": {"rdmName": "R"}}, "DOWNLOAD_RDM"),
        ("riskdata", {"name": "RD"}, "CREATE_EDM"),
    ],
)
async def test_create_and_get(api: Api, api_name: str, body: dict[str, Any], kind: str) -> None:
    job_id = await create(api, api_name, body)
    status, _, job = await api.call("GET", f"/platform/{api_name}/v1/jobs/{job_id}")
    assert status == 200
    assert job["jobId"] == job_id
    assert job["type"] == kind
    assert job["status"] == "QUEUED"
    assert job["resourceGroupId"] == GROUP["x-rms-resource-group-id"]
    assert job["tasks"][0]["jobId"] == job_id
    status, _, _ = await api.call("GET", f"/riskmodeler/v1/workflows/{job_id}")
    assert status == 404  # Platform jobs are not RM workflows


async def test_create_needs_the_resource_group_header(api: Api) -> None:
    status, _, error = await api.call("POST", "/platform/model/v1/jobs", body=MODEL_JOB)
    assert status == 400
    assert error["code"] == "RG-001"
    status, _, error = await api.call(
        "POST", "/platform/model/v1/jobs", body={**MODEL_JOB, "type": "XYZ"}, headers=GROUP
    )
    assert status == 400
    assert error["code"] == "MODEL-001"


async def test_create_edm_through_riskdata_exposures(api: Api) -> None:
    body = {"exposureName": "RM_EDM_202401_Plat", "serverId": 1}
    path = "/platform/riskdata/v1/exposuresets/9/exposures"
    status, headers, _ = await api.call("POST", path, body=body, headers=GROUP)
    assert status == 201
    assert "/platform/riskdata/v1/jobs/" in headers["Location"]
    status, _, error = await api.call("POST", path, body=body, headers=GROUP)
    assert status == 400
    assert error["code"] == "DS-538"


async def test_search_is_a_bare_array_and_other_apis_do_not_match(api: Api) -> None:
    ids = [await create(api, "model", MODEL_JOB) for _ in range(3)]
    other = await create(api, "geohaz", {"settings": {}})
    quoted = ",".join(f'"{i}"' for i in [*ids[:2], other])
    status, _, jobs = await api.call(
        "GET", "/platform/model/v1/jobs", params={"filter": f"jobId IN ({quoted})"}
    )
    assert status == 200
    assert isinstance(jobs, list)
    assert sorted(j["jobId"] for j in jobs) == sorted(ids[:2])
    _, _, everything = await api.call(
        "GET", "/platform/model/v1/jobs", params={"limit": "2", "offset": "0"}
    )
    assert len(everything) == 2
    _, _, queued = await api.call(
        "GET",
        "/platform/model/v1/jobs",
        params={"filter": 'status = "QUEUED" AND name LIKE "PLAT%"'},
    )
    assert len(queued) == 3
    status, _, error = await api.call(
        "GET", "/platform/model/v1/jobs", params={"filter": "jobId IN ("}
    )
    assert status == 400
    assert error["code"] == "JOB-005"
    status, _, error = await api.call("GET", "/platform/nope/v1/jobs")
    assert status == 404


async def test_patch_cancel_rules_and_priority(api: Api) -> None:
    dlm = await create(api, "model", MODEL_JOB)
    geo = await create(api, "geohaz", {"settings": {}})
    status, _, _ = await api.call(
        "PATCH", f"/platform/model/v1/jobs/{dlm}", body={"priority": "High"}
    )
    assert status == 202
    api.fake.advance(200)  # both RUNNING now
    _, _, job = await api.call("GET", f"/platform/model/v1/jobs/{dlm}")
    assert job["status"] == "RUNNING"
    assert job["priority"] == "High"
    status, _, error = await api.call(
        "PATCH", f"/platform/geohaz/v1/jobs/{geo}", body={"status": "CANCELLED"}
    )
    assert status == 400
    assert error["code"] == "JOB-003"
    status, _, _ = await api.call(
        "PATCH", f"/platform/model/v1/jobs/{dlm}", body={"status": "CANCELLED"}
    )
    assert status == 202
    api.fake.advance(100)
    _, _, job = await api.call("GET", f"/platform/model/v1/jobs/{dlm}")
    assert job["status"] == "CANCELLED"
    status, _, error = await api.call(
        "PATCH", f"/platform/model/v1/jobs/{dlm}", body={"priority": "Urgent"}
    )
    assert status == 400
    assert error["code"] == "JOB-004"


async def test_scripted_failure_shows_in_task_errors(api: Api) -> None:
    api.fake.script("PLATFORM_DLM_1", message="Model region not licensed")
    job_id = await create(api, "model", MODEL_JOB)
    api.fake.advance(100_000)
    _, _, job = await api.call("GET", f"/platform/model/v1/jobs/{job_id}")
    assert job["status"] == "FAILED"
    assert job["tasks"][0]["output"]["errors"] == [{"message": "Model region not licensed"}]


async def test_finished_export_has_a_download_task(api: Api) -> None:
    job_id = await create(api, "export", {"settings": {"rdmName": "R1"}})
    api.fake.advance(100_000)
    _, _, job = await api.call("GET", f"/platform/export/v1/jobs/{job_id}")
    [download] = [t for t in job["tasks"] if t["name"] == "DOWNLOAD_RESULTS"]
    url = download["output"]["log"]["downloadUrl"]
    async with api.session.get(
        url.replace(api.fake.base_url, ""), headers={"Authorization": ""}
    ) as resp:
        assert resp.status == 200
