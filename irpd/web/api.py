"""The HTTP API ``/api/v1/``: JSON for what the pages show and do, described by the OpenAPI
document at ``/api/v1/openapi.json`` (built from the same route table, so they agree).

Arguments are validated like control-socket requests (the same rules and messages); errors
are ``{"error": {"type", "message"[, "details"]}}`` with the control socket's types and an
HTTP status: 400 ``ProtocolError``, 401 ``Unauthenticated``, 403 ``PermissionDenied``, 404
not found, 422 the domain refused (``BatchError``, ``JobError`` …), 503 try again
(``DatabaseUnavailable``, ``StaleStateError``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

import irpd
from irpd.control import protocol
from irpd.control.protocol import MAX_ID, ProtocolError
from irpd.db.database import DatabaseUnavailable
from irpd.errors import DomainError, RetryableError
from irpd.web.actions import ACTIONS, Forbidden, refusal
from irpd.web.context import console, identity
from irpd.web.reads import JOB_STATUSES, MAX_PAGE, SORTS, JobsQuery

PREFIX = "/api/v1"


def error_response(status: int, kind: str, message: str, details: Any = None) -> web.Response:
    """``{"error": {...}}`` with ``status``."""
    body: dict[str, Any] = {"type": kind, "message": message}
    if details is not None:
        body["details"] = details
    return web.json_response({"error": body}, status=status)


def _status_of(exc: BaseException, kind: str, message: str) -> int:
    if isinstance(exc, ProtocolError):
        return 400
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, (DatabaseUnavailable, RetryableError)):
        return 503
    if isinstance(exc, DomainError) and message.rstrip(".").endswith("not found"):
        return 404
    return 422


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str)


Call = Callable[[web.Request, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Route:
    """One API operation."""

    method: str
    path: str
    operation: str
    summary: str
    call: Call
    action: str | None = None  # the action whose arguments form the body
    query: tuple[tuple[str, dict[str, Any], str], ...] = ()
    result: dict[str, Any] = field(default_factory=lambda: {"type": "object"})


def _path_id(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise ProtocolError(f"argument {name!r} must be a positive integer up to {MAX_ID}")
    return int(text)


def _bool_param(request: web.Request, name: str) -> bool | None:
    text = request.query.get(name)
    if text is None or text == "":
        return None
    if text not in ("true", "false"):
        raise ProtocolError(f"query parameter {name!r} must be true or false")
    return text == "true"


def _text_param(request: web.Request, name: str) -> str | None:
    text = request.query.get(name) or None
    if text is not None:
        _storable(text)
    return text


def _int_param(request: web.Request, name: str, default: int, high: int) -> int:
    text = request.query.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or not 1 <= int(text) <= high:
        raise ProtocolError(f"query parameter {name!r} must be an integer from 1 to {high}")
    return int(text)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.body_exists:
        return {}
    try:
        text = await request.text()
        data = json.loads(text, parse_constant=_reject) if text.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed request body: {exc}") from None
    except RecursionError:
        raise ProtocolError("malformed request body: nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("the request body must be a JSON object")
    _storable(data)
    return data


def _storable(value: Any) -> None:
    """Refuse text PostgreSQL cannot store: NUL characters and lone surrogates (``\\ud800``
    escapes that are not UTF-8)."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ProtocolError("strings must not contain NUL characters")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ProtocolError("strings must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _storable(item)
    elif isinstance(value, list):
        for item in value:
            _storable(item)


def _reject(name: str) -> Any:
    raise ProtocolError(f"invalid JSON number {name}")


def _act(name: str, path_arg: str | None = None) -> Call:
    async def call(request: web.Request, _args: dict[str, Any]) -> Any:
        body = await _body(request)
        if path_arg is not None:
            if path_arg in body:
                raise ProtocolError(f"{name}: {path_arg!r} is given by the path, not the body")
            body[path_arg] = _path_id(request, path_arg)
        who = identity(request)
        assert who is not None  # the middleware refused anonymous requests
        return await console(request).actions.run(who, name, body)

    return call


# --- reads ------------------------------------------------------------------------------


async def _cycles(request: web.Request, _a: dict[str, Any]) -> Any:
    return {"cycles": await console(request).reads.cycles()}


async def _cycle(request: web.Request, _a: dict[str, Any]) -> Any:
    return await console(request).reads.cycle(_path_id(request, "cycle_id"))


async def _configuration(request: web.Request, _a: dict[str, Any]) -> Any:
    return await console(request).reads.ops.configurations.read_configuration(
        _path_id(request, "configuration_id")
    )


async def _batches(request: web.Request, _a: dict[str, Any]) -> Any:
    status = request.query.get("status") or None
    cycle = request.query.get("cycle_id")
    cycle_id = None
    if cycle:
        if not cycle.isdigit() or not 0 < int(cycle) <= MAX_ID:
            raise ProtocolError("query parameter 'cycle_id' must be a positive integer")
        cycle_id = int(cycle)
    ops = console(request).reads.ops
    return {"batches": await ops.reports.batch_reports(status, None, cycle_id)}


async def _batch(request: web.Request, _a: dict[str, Any]) -> Any:
    return await console(request).reads.batch(_path_id(request, "batch_id"))


async def _batch_jobs(request: web.Request, _a: dict[str, Any]) -> Any:
    ctx = console(request)
    batch_id = _path_id(request, "batch_id")
    await ctx.reads.ops.batches.read_batch(batch_id)
    query = JobsQuery(
        batch_id=batch_id,
        status=request.query.get("status") or None,
        skipped=_bool_param(request, "skipped"),
        search=_text_param(request, "q"),
        sort=request.query.get("sort") or "id",
        after=request.query.get("after") or None,
        limit=_int_param(request, "limit", ctx.page_size, MAX_PAGE),
    )
    return await ctx.reads.jobs_page(query)


async def _batch_configs(request: web.Request, _a: dict[str, Any]) -> Any:
    ctx = console(request)
    batch_id = _path_id(request, "batch_id")
    after = request.query.get("after") or None
    limit = _int_param(request, "limit", ctx.page_size, MAX_PAGE)
    return await ctx.reads.job_configurations_page(
        batch_id, after, limit, _bool_param(request, "skipped")
    )


async def _run_times(request: web.Request, _a: dict[str, Any]) -> Any:
    ctx = console(request)
    batch_id = _path_id(request, "batch_id")
    await ctx.reads.ops.batches.read_batch(batch_id)
    return await ctx.reads.run_times(batch_id)


async def _job(request: web.Request, _a: dict[str, Any]) -> Any:
    return await console(request).reads.ops.jobs.read_job(_path_id(request, "job_id"))


async def _job_config(request: web.Request, _a: dict[str, Any]) -> Any:
    return await console(request).reads.ops.jobs.get_job_config(_path_id(request, "job_id"))


async def _job_history(request: web.Request, _a: dict[str, Any]) -> Any:
    return await console(request).reads.job(_path_id(request, "job_id"))


async def _attention(request: web.Request, _a: dict[str, Any]) -> Any:
    return await console(request).reads.attention()


async def _me(request: web.Request, _a: dict[str, Any]) -> Any:
    who = identity(request)
    assert who is not None
    return {"user": who.user, "role": who.role, "via": who.via, "can_act": who.can_act}


def _acting(
    path: str, operation: str, summary: str, action: str, path_arg: str | None = None
) -> Route:
    """A POST route running ``action`` with the body (plus ``path_arg`` from the path)."""
    return Route("POST", path, operation, summary, _act(action, path_arg), action=action)


_STATUS_SCHEMA = {"type": "string", "enum": list(JOB_STATUSES)}
_BOOL_SCHEMA = {"type": "string", "enum": ["true", "false"]}
_LIMIT = ("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}, "rows per page")
_PAGE_RESULT = {"type": "object", "required": ["next"]}

ROUTES: tuple[Route, ...] = (
    Route("GET", "/me", "me", "who the request is authenticated as", _me),
    Route("GET", "/cycles", "listCycles", "cycles with their batches' progress", _cycles),
    _acting("/cycles", "createCycle", "create the ACTIVE cycle", "cycle.create"),
    Route("GET", "/cycles/{cycle_id}", "readCycle", "a cycle, configurations, batches", _cycle),
    _acting(
        "/configurations", "loadConfiguration", "validate or register a workbook", "config.load"
    ),
    Route(
        "GET",
        "/configurations/{configuration_id}",
        "readConfiguration",
        "a configuration with its data",
        _configuration,
    ),
    Route(
        "GET",
        "/batches",
        "listBatches",
        "batch reports",
        _batches,
        query=(
            ("status", {"type": "string"}, "batch status"),
            ("cycle_id", {"type": "integer", "minimum": 1}, "cycle id"),
        ),
    ),
    _acting("/batches", "createBatch", "create a batch", "batch.create"),
    Route(
        "GET",
        "/batches/{batch_id}",
        "readBatch",
        "a batch with its report, reconciliation history and console actions",
        _batch,
    ),
    _acting(
        "/batches/{batch_id}/submit",
        "submitBatch",
        "queue a batch's jobs",
        "batch.submit",
        "batch_id",
    ),
    _acting(
        "/batches/{batch_id}/recon", "reconBatch", "reconcile a batch", "batch.recon", "batch_id"
    ),
    Route(
        "GET",
        "/batches/{batch_id}/jobs",
        "listBatchJobs",
        "a page of a batch's jobs (keyset: pass `next` as `after`)",
        _batch_jobs,
        query=(
            ("status", _STATUS_SCHEMA, "job status"),
            ("skipped", _BOOL_SCHEMA, "skipped or not"),
            (
                "q",
                {"type": "string", "maxLength": 200},
                "job id, Moody's workflow id or part of the workflow name",
            ),
            ("sort", {"type": "string", "enum": list(SORTS)}, "order"),
            ("after", {"type": "string"}, "the previous page's `next`"),
            _LIMIT,
        ),
        result=_PAGE_RESULT,
    ),
    Route(
        "GET",
        "/batches/{batch_id}/job-configurations",
        "listBatchJobConfigurations",
        "a page of a batch's job configurations",
        _batch_configs,
        query=(
            ("skipped", _BOOL_SCHEMA, "skipped or not"),
            ("after", {"type": "integer", "minimum": 1}, "the previous page's `next`"),
            _LIMIT,
        ),
        result=_PAGE_RESULT,
    ),
    Route(
        "GET",
        "/batches/{batch_id}/run-times",
        "batchRunTimes",
        "histogram of the finished jobs' run times",
        _run_times,
    ),
    _acting("/jobs", "createJob", "add a job to a batch", "job.create"),
    Route("GET", "/jobs/{job_id}", "readJob", "a job", _job),
    Route(
        "GET",
        "/jobs/{job_id}/configuration",
        "readJobConfiguration",
        "the job's job configuration",
        _job_config,
    ),
    Route(
        "GET",
        "/jobs/{job_id}/history",
        "jobHistory",
        "job, configuration, tracking log, lineage with override diffs",
        _job_history,
    ),
    _acting("/jobs/{job_id}/submit", "submitJob", "queue one job", "job.submit", "job_id"),
    _acting(
        "/jobs/{job_id}/resubmit",
        "resubmitJob",
        "resubmit a job, optionally with an override (`submit`: queue it too)",
        "job.resubmit",
        "job_id",
    ),
    _acting("/jobs/{job_id}/skip", "skipJob", "skip a job", "job.skip", "job_id"),
    _acting("/jobs/{job_id}/cancel", "cancelJob", "cancel a job", "job.cancel", "job_id"),
    _acting(
        "/jobs/{job_id}/force-ok", "forceOkJob", "declare a job done", "job.force_ok", "job_id"
    ),
    Route("GET", "/attention", "attention", "batches and jobs waiting for an operator", _attention),
)


def _handler(route: Route) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(request: web.Request) -> web.Response:
        try:
            result = await route.call(request, {})
        except Exception as exc:
            found = refusal(exc)
            if found is None:
                raise
            status = _status_of(exc, found.type, found.message)
            return error_response(status, found.type, found.message, found.details)
        return web.json_response(result, dumps=_dumps)

    return handle


async def _openapi(_request: web.Request) -> web.Response:
    return web.json_response(openapi())


async def _not_found(_request: web.Request) -> web.Response:
    return error_response(404, "NotFound", "no such API endpoint")


def add_routes(app: web.Application) -> None:
    """The API routes and the OpenAPI document."""
    app.router.add_get(f"{PREFIX}/openapi.json", _openapi)
    for route in ROUTES:
        app.router.add_route(route.method, PREFIX + route.path, _handler(route))
    app.router.add_route("*", PREFIX + "/{tail:.*}", _not_found)


# --- OpenAPI ----------------------------------------------------------------------------

_ARG_SCHEMA: Mapping[str, dict[str, Any]] = {
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "int": {"type": "integer"},
    "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "object": {"type": "object"},
    "bytes_b64": {"type": "string", "format": "byte"},
}
_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {
                "type": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}
_ERRORS = {
    "400": "invalid request (ProtocolError)",
    "401": "not authenticated",
    "403": "not allowed (viewer, CSRF)",
    "404": "not found",
    "422": "refused by the domain (CycleError, ConfigurationError, BatchError, JobError)",
    "503": "try again (DatabaseUnavailable, StaleStateError)",
}


def _body_schema(command: protocol.Command, path_arg: str | None) -> dict[str, Any]:
    props = {a.name: _ARG_SCHEMA[a.type] for a in command.args if a.name != path_arg}
    required = [a.name for a in command.args if a.required and a.name != path_arg]
    schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    path_args = [part[1:-1] for part in route.path.split("/") if part.startswith("{")]
    params.extend(
        {"name": n, "in": "path", "required": True, "schema": _ARG_SCHEMA["id"]} for n in path_args
    )
    params.extend(
        {"name": n, "in": "query", "required": False, "schema": s, "description": d}
        for n, s, d in route.query
    )
    responses: dict[str, Any] = {
        "200": {
            "description": "the result",
            "content": {"application/json": {"schema": route.result}},
        }
    }
    for code, text in _ERRORS.items():
        responses[code] = {"description": text, "content": {"application/json": {"schema": _ERROR}}}
    op: dict[str, Any] = {
        "operationId": route.operation,
        "summary": route.summary,
        "parameters": params,
        "responses": responses,
    }
    if route.action is not None:
        schema = _body_schema(ACTIONS[route.action], path_args[0] if path_args else None)
        op["requestBody"] = {
            "required": bool(schema.get("required")),
            "content": {"application/json": {"schema": schema}},
        }
    return op


def openapi() -> dict[str, Any]:
    """The OpenAPI 3.0 document of this API."""
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "irpd console API",
            "version": irpd.__version__,
            "description": "JSON for everything the irpd web console shows and does "
            "(docs/web.md). Authenticate with `Authorization: Bearer <token>`.",
        },
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
