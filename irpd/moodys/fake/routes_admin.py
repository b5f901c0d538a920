"""The fake's own admin API under ``/__fake__/`` (unauthenticated, not part of Moody's)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from irpd.moodys.fake.answers import json_response
from irpd.moodys.fake.api_errors import ApiError
from irpd.moodys.fake.context import context_of
from irpd.moodys.fake.settings import ScriptedOutcome, SettingsError, parse_fault_rules
from irpd.moodys.fake.validation import is_number


async def _json(request: web.Request) -> Any:
    text = await request.text()
    try:
        return json.loads(text) if text.strip() else None
    except ValueError as exc:
        raise ApiError(400, "FAKE-400", f"admin body is not JSON: {exc}") from exc


def _since(request: web.Request) -> int:
    raw = request.query.get("since", "0")
    if not is_number(raw):
        raise ApiError(400, "FAKE-400", "since must be a non-negative integer")
    return int(raw)


def _settings_error(exc: SettingsError) -> ApiError:
    return ApiError(400, "FAKE-400", str(exc))


async def get_faults(request: web.Request) -> web.Response:
    """Active fault rules."""
    rules = context_of(request).faults.rules
    return json_response({"rules": [rule.to_mapping() for rule in rules]})


async def set_faults(request: web.Request) -> web.Response:
    """Replace the fault rules: a rule object, a list of them, or ``{"rules": [...]}``."""
    data = await _json(request)
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    try:
        rules = parse_fault_rules(data or [])
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    context_of(request).faults.replace(rules)
    return await get_faults(request)


async def get_ledger(request: web.Request) -> web.Response:
    """Every submission received (``?since=<seq>`` for the newer ones)."""
    since = _since(request)
    entries = [e.to_json() for e in context_of(request).ledger.entries() if e.seq > since]
    return json_response({"count": len(entries), "entries": entries})


async def get_requests(request: web.Request) -> web.Response:
    """The request log (``?since=<seq>``) with never-truncated totals."""
    log = context_of(request).requests
    since = _since(request)
    records = [r.to_json() for r in log.records() if r.seq > since]
    return json_response(
        {"total": log.total, "insideRetryAfter": log.inside_retry_after_total, "requests": records}
    )


async def post_script(request: web.Request) -> web.Response:
    """Script outcomes: one ``{"name","outcome","message","times"}`` or a list."""
    data = await _json(request)
    items = data if isinstance(data, list) else [data]
    simulation = context_of(request).simulation
    changed = 0
    try:
        outcomes = [ScriptedOutcome.from_mapping(item) for item in items]
    except SettingsError as exc:
        raise _settings_error(exc) from exc
    for outcome in outcomes:
        changed += simulation.script(outcome)
    return json_response({"scripted": len(outcomes), "changedExisting": changed})


async def get_scripts(request: web.Request) -> web.Response:
    """Scripts still in force."""
    scripts = context_of(request).simulation.scripts()
    return json_response(
        [
            {"name": s.name, "outcome": s.outcome, "message": s.message, "times": s.times}
            for s in scripts
        ]
    )


async def get_state(request: web.Request) -> web.Response:
    """Counts by status and the fake's bookkeeping."""
    ctx = context_of(request)
    simulation = ctx.simulation
    return json_response(
        {
            "now": ctx.sim_iso(),
            "timeScale": ctx.clock.time_scale,
            "total": len(simulation),
            "counts": simulation.counts(),
            "queue": simulation.describe_queue(),
            "ledgerEntries": len(ctx.ledger),
            "requests": ctx.requests.total,
            "insideRetryAfter": ctx.requests.inside_retry_after_total,
            "idempotencyKeys": len(ctx.idempotency),
        }
    )


async def post_clock(request: web.Request) -> web.Response:
    """Advance simulated time: ``{"seconds": N}``."""
    data = await _json(request)
    seconds = data.get("seconds") if isinstance(data, dict) else None
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise ApiError(400, "FAKE-400", 'body must be {"seconds": <non-negative number>}')
    ctx = context_of(request)
    ctx.simulation.advance(float(seconds))
    return json_response({"now": ctx.sim_iso()})


async def get_clock(request: web.Request) -> web.Response:
    """Simulated now."""
    ctx = context_of(request)
    return json_response({"now": ctx.sim_iso(), "epoch": ctx.clock.now()})


async def post_quota(request: web.Request) -> web.Response:
    """Set the concurrency quota: ``{"quota": N}`` (0 pauses, null removes it)."""
    data = await _json(request)
    quota = data.get("quota", "missing") if isinstance(data, dict) else "missing"
    if quota is not None and (not isinstance(quota, int) or isinstance(quota, bool) or quota < 0):
        raise ApiError(400, "FAKE-400", 'body must be {"quota": <int >= 0 or null>}')
    simulation = context_of(request).simulation
    simulation.set_quota(quota)
    return json_response(simulation.describe_queue())


async def s3_upload(request: web.Request) -> web.Response:
    """The S3 "upload" a storage ``s3Path`` points at: accepted and discarded."""
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
    return json_response({"stored": False, "bytes": size})


async def download(request: web.Request) -> web.Response:
    """What an export's download URL serves: a few placeholder bytes."""
    name = request.match_info["name"]
    return web.Response(
        body=f"fake RDM backup {name}\n".encode(), content_type="application/octet-stream"
    )


def add_routes(app: web.Application) -> None:
    """Register the admin routes."""
    router = app.router
    router.add_get("/__fake__/faults", get_faults, name="admin_get_faults")
    router.add_post("/__fake__/faults", set_faults, name="admin_set_faults")
    router.add_get("/__fake__/ledger", get_ledger, name="admin_ledger")
    router.add_get("/__fake__/requests", get_requests, name="admin_requests")
    router.add_post("/__fake__/script", post_script, name="admin_script")
    router.add_get("/__fake__/script", get_scripts, name="admin_scripts")
    router.add_get("/__fake__/state", get_state, name="admin_state")
    router.add_post("/__fake__/clock", post_clock, name="admin_clock")
    router.add_get("/__fake__/clock", get_clock, name="admin_get_clock")
    router.add_post("/__fake__/quota", post_quota, name="admin_quota")
    router.add_route("PUT", "/__fake__/s3/{tail:.*}", s3_upload, name="admin_s3_put")
    router.add_route("POST", "/__fake__/s3/{tail:.*}", s3_upload, name="admin_s3_post")
    router.add_get("/__fake__/downloads/{name}", download, name="admin_download")
