"""Authentication, every submission endpoint's happy path and its 400s, Location headers."""

from __future__ import annotations

import base64
import re
from typing import Any

import aiohttp
import pytest

from irpd.moodys.fake import FakeMoodys

from .helpers import CURRENCY, Api, analysis_body

WORKFLOW_LOCATION = re.compile(r"^http://127\.0\.0\.1:\d+/riskmodeler/v1/workflows/(\d+)$")
EDM = "RM_EDM_202401_Test"
GEOHAZ_LAYERS = [
    {"name": "geocode", "type": "geocode", "engineType": "RL", "version": "22.0"},
    {"name": "earthquake", "type": "hazard", "engineType": "RL", "version": "22.0"},
]
USER_WORKFLOW = {
    "name": "cycle-1-job",
    "type": "PortfolioWorkflow",
    "operations": [
        {"label": "job", "operation": "process", "input": {"edm": EDM}},
        {"label": "grp", "operation": "group", "input": {"name": "G"}, "dependsOn": ["job"]},
    ],
}


async def test_missing_or_unknown_key_is_401_iam_001(fake: FakeMoodys) -> None:
    async with aiohttp.ClientSession(fake.base_url) as anonymous:
        for headers in ({}, {"Authorization": "wrong-key"}, {"Authorization": "Bearer nope"}):
            async with anonymous.get("/riskmodeler/v1/workflows", headers=headers) as resp:
                assert resp.status == 401
                body = await resp.json()
                assert body["code"] == "IAM-001"
                assert body["logId"]


async def test_raw_key_and_bearer_token_are_accepted(fake: FakeMoodys) -> None:
    async with aiohttp.ClientSession(fake.base_url) as client:
        for value in (fake.api_key, f"Bearer {fake.api_key}"):
            async with client.get(
                "/riskmodeler/v1/workflows", headers={"Authorization": value}
            ) as resp:
                assert resp.status == 200


async def test_forbidden_key_is_403() -> None:
    from .helpers import frozen_settings

    async with (
        FakeMoodys.running(frozen_settings(forbidden_keys=("no-rights",))) as fake,
        aiohttp.ClientSession(fake.base_url) as client,
        client.post(
            "/riskmodeler/v2/analysis-groups",
            json={"name": "G"},
            headers={"Authorization": "no-rights"},
        ) as resp,
    ):
        assert resp.status == 403
        assert "not authorized" in (await resp.json())["message"]
    assert fake.submissions() == []


async def test_admin_api_needs_no_key(fake: FakeMoodys) -> None:
    async with (
        aiohttp.ClientSession(fake.base_url) as client,
        client.get("/__fake__/state") as resp,
    ):
        assert resp.status == 200


HAPPY: list[tuple[str, str, dict[str, str] | None, Any, int, str]] = [
    (
        "create_edm",
        "/riskmodeler/v2/datasources",
        {"datasourcename": "RM_EDM_202401_New", "operation": "CREATE"},
        None,
        202,
        "CREATE_EDM",
    ),
    (
        "create_edm_v1",
        "/riskmodeler/v1/datasources",
        {"datasourcename": "RM_EDM_202401_Old", "operation": "CREATE"},
        None,
        202,
        "CREATE_EDM",
    ),
    (
        "mri_import",
        "/riskmodeler/v1/imports",
        None,
        {
            "bucketId": 5001,
            "dataSourceName": EDM,
            "delimiter": "TAB",
            "importType": "MRI",
            "accountsFileId": 1,
            "locationsFileId": 2,
            "portfolioId": 12,
        },
        202,
        "MRI_IMPORT",
    ),
    (
        "geohaz",
        "/riskmodeler/v2/portfolios/12/geohaz",
        {"datasource": EDM},
        GEOHAZ_LAYERS,
        202,
        "GEOHAZ",
    ),
    (
        "analysis",
        "/riskmodeler/v2/portfolios/12/process",
        None,
        analysis_body(
            "ANALYSIS_A",
            treaties=[1, 2],
            globalAnalysisSettings={
                "franchiseDeductible": False,
                "minLossThreshold": 0,
                "treatConstructionOccupancyAsUnknown": True,
                "numMaxLossEvent": 5000,
            },
        ),
        202,
        "ANALYTICS_JOB",
    ),
    (
        "grouping",
        "/riskmodeler/v2/analysis-groups",
        None,
        {"name": "GROUP_A", "analysisIds": [1, 2], "currency": CURRENCY},
        201,
        "GROUPING",
    ),
    (
        "export_rdm",
        "/riskmodeler/v2/exports",
        None,
        {
            "type": "ResultsExportInputV2",
            "exportType": "RDM",
            "analysisIds": [1, 2],
            "rdmName": "RDM_A",
            "createnew": True,
            "exportFormat": "BAK",
            "sqlVersion": "2019",
        },
        202,
        "EXPORT_RDM",
    ),
    ("user_workflow", "/riskmodeler/v1/workflows", None, USER_WORKFLOW, 202, "USER_DEFINED"),
]


@pytest.mark.parametrize(
    ("label", "path", "params", "body", "status", "kind"), HAPPY, ids=[h[0] for h in HAPPY]
)
async def test_submission_happy_path(
    api: Api,
    label: str,
    path: str,
    params: dict[str, str] | None,
    body: Any,
    status: int,
    kind: str,
) -> None:
    code, headers, payload = await api.call("POST", path, body=body, params=params)
    assert code == status
    assert payload is None
    match = WORKFLOW_LOCATION.match(headers["Location"])
    assert match is not None, headers["Location"]
    workflow = await api.workflow(match.group(1))
    assert workflow["type"] == kind
    assert workflow["status"] == "QUEUED"
    assert int(match.group(1)) == workflow["id"]
    for field in (
        "tenantName",
        "userName",
        "submitTime",
        "startTime",
        "endTime",
        "name",
        "progress",
        "jobs",
        "summary",
        "output",
        "messages",
    ):
        assert field in workflow
    [entry] = api.fake.submissions()
    assert entry.workflow_id == match.group(1)
    assert entry.type == kind
    assert entry.operation == label


async def test_workflow_ids_increase_and_locations_are_absolute(api: Api) -> None:
    ids = [int(await api.submit_analysis(f"ANALYSIS_{i}")) for i in range(5)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 5


async def test_user_defined_workflow_lists_one_job_per_operation(api: Api) -> None:
    _, headers, _ = await api.call("POST", "/riskmodeler/v1/workflows", body=USER_WORKFLOW)
    workflow = await api.workflow(headers["Location"].rsplit("/", 1)[1])
    jobs = workflow["jobs"]
    assert [j["name"] for j in jobs] == ["job", "grp"]
    assert jobs[0]["input"] == {"edm": EDM}
    assert jobs[1]["priorJobs"] == [jobs[0]["id"]]
    status, _, job = await api.call(
        "GET", "/riskmodeler/v1/workflows/2", params={"parent": str(workflow["id"])}
    )
    assert status == 200
    assert job["name"] == "grp"


async def test_storage_bucket_file_and_fake_s3_upload(api: Api) -> None:
    status, headers, _ = await api.call("POST", "/riskmodeler/v1/storage")
    assert status == 201
    bucket = headers["Location"].rsplit("/", 1)[1]
    assert headers["Location"].endswith(f"/riskmodeler/v1/storage/{bucket}")
    status, headers, creds = await api.call(
        "POST",
        f"/riskmodeler/v1/storage/{bucket}/path",
        body={
            "fileName": "accounts.txt",
            "fileType": "account",
            "fileSize": 10,
            "fileInputType": "MRI",
        },
    )
    assert status == 201
    assert re.search(r"/files/\d+$", headers["Location"])
    s3_path = base64.b64decode(creds["s3Path"]).decode()
    assert s3_path.startswith(api.fake.base_url)
    assert s3_path == creds["uploadUrl"]
    for key in ("accessKeyId", "secretAccessKey", "sessionToken", "s3Region"):
        assert base64.b64decode(creds[key])
    async with aiohttp.ClientSession() as plain, plain.put(s3_path, data=b"x" * 100) as resp:
        assert resp.status == 200
        assert (await resp.json())["bytes"] == 100
    status, headers, _ = await api.call("POST", f"/riskmodeler/v1/imports/createmapping/{bucket}")
    assert status == 201
    assert re.search(r"/files/\d+$", headers["Location"])
    status, _, body = await api.call(
        "POST", "/riskmodeler/v1/storage/999/path", body={"fileName": "a"}
    )
    assert status == 404
    assert body["code"] == "STORAGE-404"


async def test_create_portfolio_is_synchronous_and_rejects_duplicate_names(api: Api) -> None:
    params = {"datasource": EDM}
    body = {"name": "PORT_A", "number": "PORT_A", "description": "base"}
    status, headers, _ = await api.call(
        "POST", "/riskmodeler/v2/portfolios", body=body, params=params, key="k-1"
    )
    assert status == 201
    assert re.search(r"/riskmodeler/v2/portfolios/\d+$", headers["Location"])
    status, _, error = await api.call(
        "POST", "/riskmodeler/v2/portfolios", body=body, params=params, key="k-2"
    )
    assert status == 400
    assert error["code"] == "PORTFOLIO-001"
    status, replay_headers, _ = await api.call(
        "POST", "/riskmodeler/v2/portfolios", body=body, params=params, key="k-1"
    )
    assert status == 201
    assert replay_headers["Location"] == headers["Location"]
    assert len(api.fake.state())
    assert sum(api.fake.state().values()) == 0


async def test_duplicate_edm_name_is_ds_507_until_the_create_fails(api: Api) -> None:
    params = {"datasourcename": "RM_EDM_202401_Dup", "operation": "CREATE"}
    status, headers, _ = await api.call("POST", "/riskmodeler/v2/datasources", params=params)
    assert status == 202
    status, _, error = await api.call("POST", "/riskmodeler/v2/datasources", params=params)
    assert status == 400
    assert error["code"] == "DS-507"
    await api.call("DELETE", headers["Location"].split(api.fake.base_url)[1])
    api.fake.advance(3600)
    status, _, _ = await api.call("POST", "/riskmodeler/v2/datasources", params=params)
    assert status == 202


BAD: list[tuple[str, str, dict[str, str] | None, Any, str]] = [
    ("edm_empty", "/riskmodeler/v2/datasources", {"operation": "CREATE"}, None, "DS-003"),
    (
        "edm_chars",
        "/riskmodeler/v2/datasources",
        {"datasourcename": "bad/name", "operation": "CREATE"},
        None,
        "DS-400",
    ),
    (
        "edm_dashes",
        "/riskmodeler/v2/datasources",
        {"datasourcename": "a--b", "operation": "CREATE"},
        None,
        "DS-400",
    ),
    (
        "edm_long",
        "/riskmodeler/v2/datasources",
        {"datasourcename": "E" * 81, "operation": "CREATE"},
        None,
        "DS-400",
    ),
    ("edm_operation", "/riskmodeler/v2/datasources", {"datasourcename": "E1"}, None, "DS-511"),
    (
        "mri_bucket",
        "/riskmodeler/v1/imports",
        None,
        {"dataSourceName": EDM, "delimiter": "TAB"},
        "IMPORT-001",
    ),
    (
        "mri_delimiter",
        "/riskmodeler/v1/imports",
        None,
        {"bucketId": 1, "dataSourceName": EDM, "delimiter": "PIPE"},
        "IMPORT-002",
    ),
    ("mri_not_json", "/riskmodeler/v1/imports", None, "not json", "BODY-001"),
    (
        "geohaz_object",
        "/riskmodeler/v2/portfolios/12/geohaz",
        {"datasource": EDM},
        {"name": "geocode"},
        "GEOHAZ-001",
    ),
    (
        "geohaz_field",
        "/riskmodeler/v2/portfolios/12/geohaz",
        {"datasource": EDM},
        [{"name": "geocode", "type": "geocode", "version": "22.0"}],
        "GEOHAZ-002",
    ),
    (
        "geohaz_type",
        "/riskmodeler/v2/portfolios/12/geohaz",
        {"datasource": EDM},
        [{"name": "g", "type": "flood", "engineType": "RL", "version": "1"}],
        "GEOHAZ-003",
    ),
    ("geohaz_edm", "/riskmodeler/v2/portfolios/12/geohaz", None, GEOHAZ_LAYERS, "DS-003"),
    (
        "analysis_edm",
        "/riskmodeler/v2/portfolios/12/process",
        None,
        {"currency": CURRENCY},
        "ANALYSIS-001",
    ),
    (
        "analysis_currency",
        "/riskmodeler/v2/portfolios/12/process",
        None,
        {"edm": EDM, "currency": {"code": "USD", "scheme": "RMS", "asOfDate": "2024-01-01"}},
        "ANALYSIS-002",
    ),
    (
        "analysis_name_long",
        "/riskmodeler/v2/portfolios/12/process",
        None,
        analysis_body("A" * 65),
        "ANALYSIS-003",
    ),
    (
        "analysis_name_dashes",
        "/riskmodeler/v2/portfolios/12/process",
        None,
        analysis_body("a--b"),
        "ANALYSIS-003",
    ),
    (
        "analysis_settings",
        "/riskmodeler/v2/portfolios/12/process",
        None,
        analysis_body("A1", globalAnalysisSettings={"minLossThreshold": 0}),
        "ANALYSIS-004",
    ),
    (
        "analysis_events",
        "/riskmodeler/v2/portfolios/12/process",
        None,
        analysis_body(
            "A1",
            globalAnalysisSettings={
                "franchiseDeductible": False,
                "minLossThreshold": 0,
                "treatConstructionOccupancyAsUnknown": True,
                "numMaxLossEvent": 5001,
            },
        ),
        "ANALYSIS-005",
    ),
    ("group_name", "/riskmodeler/v2/analysis-groups", None, {"analysisIds": [1]}, "GROUP-001"),
    ("group_name_long", "/riskmodeler/v2/analysis-groups", None, {"name": "G" * 65}, "GROUP-001"),
    (
        "export_many",
        "/riskmodeler/v2/exports",
        None,
        {"exportType": "RDM", "analysisIds": list(range(1, 52)), "rdmName": "R"},
        "EXPORT-003",
    ),
    (
        "export_none",
        "/riskmodeler/v2/exports",
        None,
        {"exportType": "RDM", "analysisIds": [], "rdmName": "R"},
        "EXPORT-003",
    ),
    (
        "export_rdm_name",
        "/riskmodeler/v2/exports",
        None,
        {"exportType": "RDM", "analysisIds": [1]},
        "EXPORT-001",
    ),
    (
        "export_type",
        "/riskmodeler/v2/exports",
        None,
        {"exportType": "EDM", "analysisIds": [1], "rdmName": "R"},
        "EXPORT-002",
    ),
    (
        "udw_no_operations",
        "/riskmodeler/v1/workflows",
        None,
        {"name": "W1", "type": "PortfolioWorkflow", "operations": []},
        "WORKFLOW-401",
    ),
    (
        "udw_type",
        "/riskmodeler/v1/workflows",
        None,
        {"name": "W1", "operations": [{"label": "geo", "operation": "geohaz"}]},
        "WORKFLOW-521",
    ),
    (
        "udw_labels",
        "/riskmodeler/v1/workflows",
        None,
        {
            "name": "W1",
            "type": "PortfolioWorkflow",
            "operations": [
                {"label": "ab", "operation": "process"},
                {"label": "ab", "operation": "group"},
            ],
        },
        "WORKFLOW-403",
    ),
    (
        "udw_label_pattern",
        "/riskmodeler/v1/workflows",
        None,
        {
            "name": "W1",
            "type": "PortfolioWorkflow",
            "operations": [{"label": "1x", "operation": "process"}],
        },
        "WORKFLOW-404",
    ),
    (
        "udw_operation",
        "/riskmodeler/v1/workflows",
        None,
        {
            "name": "W1",
            "type": "PortfolioWorkflow",
            "operations": [{"label": "ab", "operation": "explode"}],
        },
        "WORKFLOW-408",
    ),
    (
        "udw_missing_operation",
        "/riskmodeler/v1/workflows",
        None,
        {"name": "W1", "operations": [{"label": "ab"}]},
        "WORKFLOW-407",
    ),
    (
        "udw_depends",
        "/riskmodeler/v1/workflows",
        None,
        {
            "name": "W1",
            "type": "PortfolioWorkflow",
            "operations": [{"label": "ab", "operation": "process", "dependsOn": ["zz"]}],
        },
        "WORKFLOW-406",
    ),
    (
        "udw_cycle",
        "/riskmodeler/v1/workflows",
        None,
        {
            "name": "W1",
            "type": "PortfolioWorkflow",
            "operations": [
                {"label": "ab", "operation": "process", "dependsOn": ["cd"]},
                {"label": "cd", "operation": "group", "dependsOn": ["ab"]},
            ],
        },
        "WORKFLOW-402",
    ),
    (
        "portfolio_name",
        "/riskmodeler/v2/portfolios",
        {"datasource": EDM},
        {"number": "1"},
        "PORTFOLIO-002",
    ),
    ("portfolio_edm", "/riskmodeler/v2/portfolios", None, {"name": "P"}, "DS-003"),
]


@pytest.mark.parametrize(("label", "path", "params", "body", "code"), BAD, ids=[b[0] for b in BAD])
async def test_submission_validation_errors(
    api: Api, label: str, path: str, params: dict[str, str] | None, body: Any, code: str
) -> None:
    if isinstance(body, str):
        async with api.session.post(path, data=body, params=params) as resp:
            status, payload = resp.status, await resp.json()
    else:
        status, _, payload = await api.call("POST", path, body=body, params=params)
    assert status == 400, payload
    assert payload["code"] == code
    assert payload["message"]
    assert payload["logId"]
    [entry] = api.fake.ledger
    assert entry.status == 400
    assert entry.workflow_id is None
    assert not entry.accepted
    assert sum(api.fake.state().values()) == 0
