"""Platform jobs, minimal (spec §4 "Platform equivalents", §7.3): create, get, search, patch
on ``/platform/{api}/v1/jobs`` for model, riskdata, import, geohaz, grouping and export."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from irpd.moodys.fake import validation as rules
from irpd.moodys.fake.answers import accepted, json_response
from irpd.moodys.fake.api_errors import bad_request, not_found
from irpd.moodys.fake.context import FakeContext, context_of
from irpd.moodys.fake.filters import FilterSyntaxError, parse_filter
from irpd.moodys.fake.render import render_platform_job
from irpd.moodys.fake.routes_workflows import view_of
from irpd.moodys.fake.timeline import (
    CANCEL_REQUESTED,
    CANCELLED,
    PENDING,
    RUNNING,
    TERMINAL,
    WorkflowRecord,
)
from irpd.moodys.fake.validation import is_number

APIS = frozenset({"model", "riskdata", "import", "geohaz", "grouping", "export"})
#: types that may be cancelled while PENDING or RUNNING (any type while QUEUED)
CANCELLABLE_WHILE_RUNNING = frozenset(
    {"ALM", "BATCH", "CLIMATE_CHANGE", "CONVERT_RESULT_CURRENCY", "DLM", "HD", "DOWNLOAD_RDM"}
)
PRIORITIES = ("Very Low", "Low", "Medium", "High", "Very High")
CANCEL_VALUES = frozenset({CANCELLED, CANCEL_REQUESTED, "CANCEL"})


def _api(request: web.Request) -> str:
    api = request.match_info["api"]
    if api not in APIS:
        raise not_found("PLATFORM-404", f"Unknown platform API {api!r}.")
    return api


def _resource_group(request: web.Request) -> str:
    group = request.headers.get("x-rms-resource-group-id", "").strip()
    if not group:
        raise bad_request("RG-001", "The x-rms-resource-group-id header is required.")
    return group


def _job(ctx: FakeContext, api: str, raw_id: str) -> WorkflowRecord:
    record = ctx.simulation.get(int(raw_id)) if is_number(raw_id) else None
    if record is None or record.api != api:
        raise not_found("JOB-001", f"Job {raw_id} was not found")
    return record


async def create_job(request: web.Request) -> web.Response:
    """``POST /platform/{api}/v1/jobs`` → 201 + ``Location: …/platform/{api}/v1/jobs/{id}``."""
    ctx = context_of(request)
    api = _api(request)
    group = _resource_group(request)
    text = await request.text()
    body = rules.require_object(rules.parse_json(text))
    job_type = rules.platform_job_type(api, body)
    record = ctx.simulation.submit(
        workflow_type=job_type,
        name=rules.platform_job_name(job_type, body),
        body_text=text,
        api=api,
        summary={"resourceGroupId": group},
    )
    return accepted(request, record, status=201)


async def create_exposure(request: web.Request) -> web.Response:
    """``POST /platform/riskdata/v1/exposuresets/{id}/exposures`` (CREATE_EDM job)."""
    ctx = context_of(request)
    group = _resource_group(request)
    text = await request.text()
    body = rules.require_object(rules.parse_json(text))
    name = rules.check_edm_name(str(body.get("exposureName") or ""))
    if ctx.registry.edm_state(name, ctx.simulation.now()) != "absent":
        raise bad_request(
            "DS-538",
            f"EDM {name} already exists. To create/import/upload this "
            "database, you must rename it.",
        )
    record = ctx.simulation.submit(
        workflow_type="CREATE_EDM",
        name=name,
        body_text=text,
        api="riskdata",
        summary={
            "resourceGroupId": group,
            "datasourceName": name,
            "exposureSetId": request.match_info["exposure_set_id"],
        },
    )
    ctx.registry.record_edm_create(name, record)
    return accepted(request, record, status=201)


async def get_job(request: web.Request) -> web.Response:
    """``GET /platform/{api}/v1/jobs/{jobId}``."""
    ctx = context_of(request)
    now = ctx.simulation.now()
    record = _job(ctx, _api(request), request.match_info["job_id"])
    return json_response(render_platform_job(record, view_of(ctx, request, now)))


async def search_jobs(request: web.Request) -> web.Response:
    """``GET /platform/{api}/v1/jobs?filter=…&limit=&offset=`` → a bare array."""
    ctx = context_of(request)
    api = _api(request)
    now = ctx.simulation.now()
    raw = request.query.get("filter")
    try:
        query = parse_filter(raw) if raw and raw.strip() else None
    except FilterSyntaxError as exc:
        raise bad_request("JOB-005", f"Invalid filter {raw!r}: {exc}") from exc
    limit, offset = _paging(ctx, request)
    ids = query.values_of("jobId") if query is not None else None
    if ids is not None:
        found = (ctx.simulation.get(int(i)) for i in ids if is_number(i))
        candidates = [r for r in found if r is not None]
    else:
        candidates = list(ctx.simulation.records())
    matched = [
        r
        for r in candidates
        if r.api == api and (query is None or query.test(_fields(r, now, ctx)))
    ]
    matched.sort(key=lambda r: r.id, reverse=True)
    view = view_of(ctx, request, now)
    return json_response([render_platform_job(r, view) for r in matched[offset : offset + limit]])


def _fields(record: WorkflowRecord, now: float, ctx: FakeContext) -> dict[str, Any]:
    return {
        "jobId": str(record.id),
        "status": record.status_at(now),
        "name": record.name,
        "type": record.type,
        "userName": ctx.settings.user_name,
        "priority": record.priority,
        "submittedAt": record.submit_iso,
    }


def _paging(ctx: FakeContext, request: web.Request) -> tuple[int, int]:
    try:
        limit = int(request.query.get("limit", ctx.settings.default_limit))
        offset = int(request.query.get("offset", 0))
    except ValueError as exc:
        raise bad_request("JOB-006", "limit and offset must be integers.") from exc
    if not 1 <= limit <= ctx.settings.max_limit or offset < 0:
        raise bad_request("JOB-006", f"limit must be 1..{ctx.settings.max_limit}, offset >= 0.")
    return limit, offset


async def patch_job(request: web.Request) -> web.Response:
    """``PATCH /platform/{api}/v1/jobs/{jobId}`` ``{status: "CANCELLED"}`` and/or
    ``{priority}`` → 202."""
    ctx = context_of(request)
    record = _job(ctx, _api(request), request.match_info["job_id"])
    body = rules.require_object(rules.parse_json(await request.text()))
    priority = body.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise bad_request("JOB-004", f"priority must be one of {', '.join(PRIORITIES)}.")
    status = body.get("status")
    if status is not None:
        if status not in CANCEL_VALUES:
            raise bad_request("JOB-002", f"status {status!r} cannot be set; use CANCELLED.")
        _cancel(ctx, record)
    if priority is not None:
        ctx.simulation.set_priority(record, priority)
    return web.Response(status=202)


def _cancel(ctx: FakeContext, record: WorkflowRecord) -> None:
    now = ctx.simulation.now()
    current = record.status_at(now)
    if current in TERMINAL or (
        current in (PENDING, RUNNING) and record.type not in CANCELLABLE_WHILE_RUNNING
    ):
        raise bad_request(
            "JOB-003", f"Job {record.id} of type {record.type} cannot be cancelled while {current}."
        )
    ctx.simulation.cancel(record)


def add_routes(app: web.Application) -> None:
    """Register the Platform routes."""
    app.router.add_post(
        "/platform/riskdata/v1/exposuresets/{exposure_set_id}/exposures",
        create_exposure,
        name="platform_create_exposure",
    )
    app.router.add_post("/platform/{api}/v1/jobs", create_job, name="platform_create_job")
    app.router.add_get("/platform/{api}/v1/jobs", search_jobs, name="search_platform_jobs")
    app.router.add_get("/platform/{api}/v1/jobs/{job_id}", get_job, name="get_platform_job")
    app.router.add_patch("/platform/{api}/v1/jobs/{job_id}", patch_job, name="patch_platform_job")
