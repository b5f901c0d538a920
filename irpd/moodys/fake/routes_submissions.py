"""RM submission endpoints (spec §4): each validates, records a workflow and answers
``202``/``201`` with ``Location``. Create-portfolio and storage are synchronous creates."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from irpd.moodys.fake import validation as rules
from irpd.moodys.fake.answers import accepted, created
from irpd.moodys.fake.api_errors import bad_request, not_found
from irpd.moodys.fake.context import context_of
from irpd.moodys.fake.validation import is_number


def workflow_name(body: Mapping[str, Any], default: str) -> str:
    """``jobName`` or ``name`` from the body when it carries one, else *default*."""
    for key in ("jobName", "name"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return default


def _path_int(request: web.Request, key: str, code: str) -> int:
    raw = request.match_info[key]
    if not is_number(raw):
        raise not_found(code, f"Invalid {key}: {raw}")
    return int(raw)


def require_datasource(request: web.Request, key: str = "datasource") -> str:
    value = request.query.get(key, "").strip()
    if not value:
        raise bad_request("DS-003", "The database cannot be empty. Enter a valid database name.")
    return value


async def create_datasource(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v{1,2}/datasources?datasourcename=&operation=CREATE``."""
    ctx = context_of(request)
    name = rules.check_edm_name(request.query.get("datasourcename", ""))
    if request.query.get("operation", "").upper() == "EDM_DATA_UPGRADE":
        return upgrade_datasource(request, name)
    if request.query.get("operation", "").upper() != "CREATE":
        raise bad_request(
            "DS-511", "Sorry, you tried something invalid. Enter a valid datastore operation."
        )
    text = await request.text()
    if text.strip():
        rules.require_object(rules.parse_json(text))
    if ctx.registry.edm_state(name, ctx.simulation.now()) != "absent":
        raise bad_request(
            "DS-507", f"A database with the name {name} already exists. Enter a different name."
        )
    summary = {"datasourceName": name}
    if request.query.get("servername"):
        summary["serverName"] = request.query["servername"]
    record = ctx.simulation.submit(
        workflow_type="CREATE_EDM", name=name, body_text=text, summary=summary
    )
    ctx.registry.record_edm_create(name, record)
    return accepted(request, record)


def upgrade_datasource(request: web.Request, name: str) -> web.Response:
    """``POST /riskmodeler/v2/datasources?datasourcename=&operation=EDM_DATA_UPGRADE``: an
    ``EDM_DATA_UPGRADE`` workflow on an EDM that exists (lenient: or one never seen)."""
    ctx = context_of(request)
    state = ctx.registry.edm_state(name, ctx.simulation.now())
    if state == "creating" or (state == "absent" and ctx.registry.strict):
        raise bad_request("DS-404", f"The database {name} does not exist or is not ready.")
    record = ctx.simulation.submit(
        workflow_type="EDM_DATA_UPGRADE",
        name=f"EDM_DATA_UPGRADE {name}",
        body_text="",
        summary={"datasourceName": name},
    )
    return accepted(request, record)


async def create_bucket(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v1/storage`` → 201 + ``Location …/storage/{bucketId}``."""
    bucket = context_of(request).registry.new_bucket()
    return created(request, f"/riskmodeler/v1/storage/{bucket}", name=None, kind="STORAGE")


def _bucket(request: web.Request) -> int:
    bucket = _path_int(request, "bucket_id", "STORAGE-404")
    if not context_of(request).registry.has_bucket(bucket):
        raise not_found("STORAGE-404", f"Storage bucket {bucket} does not exist.")
    return bucket


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def register_file(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v1/storage/{bucketId}/path`` → 201 + ``Location …/files/{id}``
    and base64 S3 credentials whose ``s3Path`` points back at the fake (upload = no-op)."""
    ctx = context_of(request)
    bucket = _bucket(request)
    body = rules.check_storage_path(rules.parse_json(await request.text()))
    file_id = ctx.registry.new_file(bucket)
    upload_url = f"{ctx.base_url(request)}/__fake__/s3/{bucket}/{file_id}/{body['fileName']}"
    credentials = {
        "accessKeyId": _b64("FAKEACCESSKEYID"),
        "secretAccessKey": _b64("fake-secret-access-key"),
        "sessionToken": _b64("fake-session-token"),
        "s3Path": _b64(upload_url),
        "s3Region": _b64("fake-region-1"),
        "uploadUrl": upload_url,
    }
    return created(
        request,
        f"/riskmodeler/v1/storage/{bucket}/files/{file_id}",
        name=str(body["fileName"]),
        kind="STORAGE_FILE",
        body=credentials,
    )


async def create_mapping(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v1/imports/createmapping/{bucketId}`` → mapping file id."""
    ctx = context_of(request)
    bucket = _bucket(request)
    file_id = ctx.registry.new_file(bucket)
    return created(
        request,
        f"/riskmodeler/v1/storage/{bucket}/files/{file_id}",
        name="mapping",
        kind="IMPORT_MAPPING",
    )


async def mri_import(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v1/imports`` (MRI_IMPORT)."""
    ctx = context_of(request)
    text = await request.text()
    body = rules.check_mri_import(rules.parse_json(text))
    bucket = str(body["bucketId"])
    if ctx.registry.strict and not (is_number(bucket) and ctx.registry.has_bucket(int(bucket))):
        raise bad_request("IMPORT-003", f"Storage bucket {bucket} does not exist.")
    edm = str(body["dataSourceName"])
    portfolio = str(body.get("portfolioId", ""))
    name = workflow_name(body, f"MRI_IMPORT {edm} {portfolio}".strip())
    record = ctx.simulation.submit(
        workflow_type="MRI_IMPORT",
        name=name,
        body_text=text,
        summary={"edm": edm, "portfolioId": portfolio, "bucketId": bucket},
    )
    return accepted(request, record)


async def geohaz(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v2/portfolios/{id}/geohaz?datasource=`` (GEOHAZ)."""
    ctx = context_of(request)
    portfolio = _path_int(request, "portfolio_id", "PORTFOLIO-404")
    edm = require_datasource(request)
    text = await request.text()
    rules.check_geohaz(rules.parse_json(text))
    record = ctx.simulation.submit(
        workflow_type="GEOHAZ",
        name=f"GEOHAZ {edm} {portfolio}",
        body_text=text,
        summary={"edm": edm, "portfolioId": str(portfolio)},
    )
    return accepted(request, record)


async def process_portfolio(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v2/portfolios/{id}/process`` (ANALYTICS_JOB)."""
    ctx = context_of(request)
    portfolio = _path_int(request, "portfolio_id", "PORTFOLIO-404")
    text = await request.text()
    body = rules.check_analysis(rules.parse_json(text))
    edm = str(body["edm"])
    name = workflow_name(body, f"ANALYSIS {edm} {portfolio}")
    record = ctx.simulation.submit(
        workflow_type="ANALYTICS_JOB",
        name=name,
        body_text=text,
        summary={"edm": edm, "portfolioId": str(portfolio)},
    )
    return accepted(request, record)


async def create_group(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v2/analysis-groups`` → 201 + ``Location`` (GROUPING)."""
    ctx = context_of(request)
    text = await request.text()
    body = rules.check_grouping(rules.parse_json(text))
    record = ctx.simulation.submit(
        workflow_type="GROUPING", name=str(body["name"]).strip(), body_text=text, summary={}
    )
    return accepted(request, record, status=201)


async def export_rdm(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v2/exports`` (EXPORT_RDM). ``createnew`` true must name a new
    RDM; false exports into an existing one (checked in strict mode)."""
    ctx = context_of(request)
    text = await request.text()
    body = rules.check_export(rules.parse_json(text))
    rdm = str(body["rdmName"]).strip()
    create_new = bool(body.get("createnew", True))
    state = ctx.registry.rdm_state(rdm, ctx.simulation.now())
    if create_new and state != "absent":
        raise bad_request(
            "DS-507", f"A database with the name {rdm} already exists. Enter a different name."
        )
    if not create_new and ctx.registry.strict and state != "exists":
        raise bad_request(
            "DS-001", f"We did not locate the database {rdm}. Check the database name."
        )
    record = ctx.simulation.submit(
        workflow_type="EXPORT_RDM",
        name=workflow_name(body, f"EXPORT_RDM {rdm}"),
        body_text=text,
        summary={"rdmName": rdm, "createnew": str(create_new).lower()},
    )
    if create_new:
        ctx.registry.record_rdm_create(rdm, record)
    return accepted(request, record)


async def user_workflow(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v1/workflows`` (USER_DEFINED, used by default/multi_job)."""
    ctx = context_of(request)
    text = await request.text()
    body, labels = rules.check_user_workflow(rules.parse_json(text))
    inputs = tuple(json.dumps(op.get("input", {})) for op in body["operations"])
    record = ctx.simulation.submit(
        workflow_type="USER_DEFINED",
        name=str(body["name"]).strip(),
        body_text=text,
        operations=labels,
        op_inputs=inputs,
        summary={"workflowType": str(body.get("type") or "")},
    )
    return accepted(request, record)


async def create_portfolio(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v2/portfolios?datasource=`` → 201 + ``Location``, no workflow."""
    ctx = context_of(request)
    edm = require_datasource(request)
    body = rules.check_portfolio(rules.parse_json(await request.text()))
    name = str(body["name"]).strip()
    if ctx.registry.find_portfolio(edm, name) is not None:
        raise bad_request("PORTFOLIO-001", "Portfolio name already exists")
    portfolio = ctx.registry.create_portfolio(
        edm, name, str(body.get("number") or name), str(body.get("description") or "")
    )
    return created(
        request, f"/riskmodeler/v2/portfolios/{portfolio.id}", name=name, kind="PORTFOLIO"
    )


def add_routes(app: web.Application) -> None:
    """Register the submission routes."""
    post = app.router.add_post
    post("/riskmodeler/v2/datasources", create_datasource, name="create_edm")
    post("/riskmodeler/v1/datasources", create_datasource, name="create_edm_v1")
    post("/riskmodeler/v1/storage", create_bucket, name="create_bucket")
    post("/riskmodeler/v1/storage/{bucket_id}/path", register_file, name="register_file")
    post("/riskmodeler/v1/imports/createmapping/{bucket_id}", create_mapping, name="create_mapping")
    post("/riskmodeler/v1/imports", mri_import, name="mri_import")
    post("/riskmodeler/v2/portfolios/{portfolio_id}/geohaz", geohaz, name="geohaz")
    post("/riskmodeler/v2/portfolios/{portfolio_id}/process", process_portfolio, name="analysis")
    post("/riskmodeler/v2/analysis-groups", create_group, name="grouping")
    post("/riskmodeler/v2/exports", export_rdm, name="export_rdm")
    post("/riskmodeler/v1/workflows", user_workflow, name="user_workflow")
    post("/riskmodeler/v2/portfolios", create_portfolio, name="create_portfolio")
