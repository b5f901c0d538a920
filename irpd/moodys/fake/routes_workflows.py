"""RM workflow tracking: get one, list / batch lookup, cancel (spec §2, §3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import Any

from aiohttp import web

from irpd.moodys.fake.answers import json_response
from irpd.moodys.fake.api_errors import bad_request, not_found
from irpd.moodys.fake.clock import parse_iso
from irpd.moodys.fake.context import FakeContext, context_of
from irpd.moodys.fake.rawjson import materialise
from irpd.moodys.fake.render import View, render_workflow
from irpd.moodys.fake.settings import WORKFLOW_TYPES
from irpd.moodys.fake.timeline import STATUSES, WorkflowRecord
from irpd.moodys.fake.validation import is_number
from irpd.moodys.fake.workflow_json import workflow_json, workflow_list_json

#: types accepted by ``workflowtype=`` (documented ones plus the fake's own)
KNOWN_TYPES = frozenset(
    {
        *WORKFLOW_TYPES,
        "DELETE_ACCOUNT",
        "DOWNLOAD_EDM",
        "EDM_DATA_UPGRADE",
        "ALM_IMPORT",
        "UPLOAD_EDM",
        "UPLOAD_RDM",
        "DOWNLOAD_RDM",
        "DOWNLOAD_RESULTS",
        "DOWNLOAD_LOCATION_RESULTS",
        "EDM2EDM",
    }
)


def _by_id(now: float) -> Callable[[WorkflowRecord], Any]:
    """Id order, which is also (submitTime, id) order: ids are handed out in submission
    order and simulated time never goes back."""
    return attrgetter("id")


#: ``sortby=`` values: each gives the sort key of a record at a simulated instant
SORT_KEYS: Mapping[str, Callable[[float], Callable[[WorkflowRecord], Any]]] = {
    "submitTime": _by_id,
    "id": _by_id,
    "name": lambda now: attrgetter("name", "id"),
    "type": lambda now: attrgetter("type", "id"),
    "status": lambda now: lambda r: (r.status_at(now), r.id),
    "startTime": lambda now: lambda r: (r.run_start or 0.0, r.id),
    "endTime": lambda now: lambda r: (r.end_time() or 0.0, r.id),
}


def view_of(ctx: FakeContext, request: web.Request, now: float) -> View:
    """Rendering context for this request."""
    return View(
        now=now,
        base_url=ctx.base_url(request),
        tenant=ctx.settings.tenant_name,
        user=ctx.settings.user_name,
        paused=ctx.simulation.paused,
    )


def rm_record(ctx: FakeContext, raw_id: str) -> WorkflowRecord:
    """An RM workflow by path id, or ``404 WORKFLOW-511``."""
    record = ctx.simulation.get(int(raw_id)) if is_number(raw_id) else None
    if record is None or record.api is not None:
        raise not_found("WORKFLOW-511", f"Invalid workflow id: {raw_id}")
    return record


async def get_workflow(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v1/workflows/{id}[?parent=]``."""
    ctx = context_of(request)
    now = ctx.simulation.now()
    raw_id = request.match_info["workflow_id"]
    parent = request.query.get("parent")
    if parent is not None:
        jobs = materialise(render_workflow(rm_record(ctx, parent), view_of(ctx, request, now)))[
            "jobs"
        ]
        for job in jobs:
            if raw_id in (str(job["taskId"]), job["id"]):
                return json_response(job)
        raise not_found("WORKFLOW-511", f"Invalid workflow id: {raw_id}")
    record = rm_record(ctx, raw_id)
    text = workflow_json(record, view_of(ctx, request, now))
    return web.Response(body=text.encode(), content_type="application/json")


async def cancel_workflow(request: web.Request) -> web.Response:
    """``DELETE /riskmodeler/v1/workflows/{id}``: 202, or 400 ``WORKFLOW-515``."""
    ctx = context_of(request)
    raw_id = request.match_info["workflow_id"]
    record = rm_record(ctx, raw_id)
    blocking = ctx.simulation.cancel(record)
    if blocking is not None:
        raise bad_request(
            "WORKFLOW-515",
            f"Status for workflow id {raw_id} is {blocking}. You cannot cancel a job with this "
            "status.",
        )
    return web.Response(status=202)


async def list_workflows(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v1/workflows``: filters, record offset, ``totalMatchCount``."""
    ctx = context_of(request)
    query = request.query
    limit = _int_param(query, "limit", ctx.settings.default_limit, 1, ctx.settings.max_limit)
    offset = _int_param(query, "offset", 0, 0, None)
    statuses = _statuses(query.get("status"))
    types = _types(query.get("workflowtype"))
    window = _window(query.get("from"), query.get("to"))
    sort_key, descending = _sorting(query.get("sortby"), query.get("sortorder"))
    now = ctx.simulation.now()
    name = query.get("workflowname")
    username = query.get("username")
    candidates = _candidates(ctx, query.get("ids"), name)  # in id order
    if name is None and username is None and types is None and window is None and statuses is None:
        matched = [record for record in candidates if record.api is None]
    else:
        matched = [
            record
            for record in candidates
            if record.api is None
            and (name is None or record.name == name)
            and (username is None or username == ctx.settings.user_name)
            and (types is None or record.type in types)
            and (window is None or window[0] <= record.submit_at <= window[1])
            and (statuses is None or record.status_at(now) in statuses)
        ]
    if sort_key is not _by_id:
        matched.sort(key=sort_key(now), reverse=descending)
    elif descending:
        matched.reverse()
    body = workflow_list_json(
        len(matched), matched[offset : offset + limit], view_of(ctx, request, now)
    )
    return web.Response(body=body, content_type="application/json")


def _candidates(ctx: FakeContext, ids: str | None, name: str | None) -> Iterable[WorkflowRecord]:
    """The records asked for, each once, in id order."""
    if ids is not None:
        parts = ids.split(",")
        if is_number(ids.replace(",", "")):  # the usual query: digits and commas only
            return ctx.simulation.get_many(sorted(set(map(int, filter(None, parts)))))
        numbers = set()
        for part in parts:
            raw = part.strip()
            if not raw:
                continue
            if not is_number(raw):
                raise bad_request("WORKFLOW-511", f"Invalid workflow id: {raw}")
            numbers.add(int(raw))
        return ctx.simulation.get_many(sorted(numbers))
    if name is not None:
        return ctx.simulation.named(name)
    return ctx.simulation.records()


def _int_param(query: Mapping[str, str], key: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise bad_request(
            "WORKFLOW-507", f"Failed to get list of workflows: {key} must be {bound}."
        )
    return value


def _statuses(raw: str | None) -> frozenset[str] | None:
    if raw is None:
        return None
    values = frozenset(v.strip().upper() for v in raw.split(",") if v.strip())
    bad = sorted(values - set(STATUSES))
    if bad or not values:
        raise bad_request("WORKFLOW-509", f"Invalid status parameter: {raw}")
    return values


def _types(raw: str | None) -> frozenset[str] | None:
    if raw is None:
        return None
    values = frozenset(v.strip().upper() for v in raw.split(",") if v.strip())
    if not values or values - KNOWN_TYPES:
        raise bad_request("WORKFLOW-510", f"Invalid workflow type parameter: {raw}")
    return values


def _window(start: str | None, end: str | None) -> tuple[float, float] | None:
    if start is None and end is None:
        return None
    bounds = []
    for raw, default in ((start, float("-inf")), (end, float("inf"))):
        if raw is None:
            bounds.append(default)
            continue
        try:
            bounds.append(parse_iso(raw))
        except ValueError as exc:
            raise bad_request("WORKFLOW-508", f"Invalid date format: {raw}") from exc
    if bounds[0] > bounds[1]:
        raise bad_request("WORKFLOW-513", "Invalid date, from date cannot be greater than to date")
    return bounds[0], bounds[1]


def _sorting(
    sortby: str | None, order: str | None
) -> tuple[Callable[[float], Callable[[WorkflowRecord], Any]], bool]:
    key = SORT_KEYS.get(sortby or "submitTime")
    if key is None:
        raise bad_request("WORKFLOW-512", f"Invalid sort attributes: {sortby}")
    direction = (order or "DESC").upper()
    if direction not in ("ASC", "DESC"):
        raise bad_request("WORKFLOW-512", f"Invalid sort attributes: {order}")
    return key, direction == "DESC"


def add_routes(app: web.Application) -> None:
    """Register the workflow routes."""
    app.router.add_get("/riskmodeler/v1/workflows", list_workflows, name="list_workflows")
    app.router.add_get("/riskmodeler/v1/workflows/{workflow_id}", get_workflow, name="get_workflow")
    app.router.add_delete(
        "/riskmodeler/v1/workflows/{workflow_id}", cancel_workflow, name="cancel_workflow"
    )
