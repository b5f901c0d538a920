"""The request pipeline, outermost first:

1. ``request_log`` records every Moody's request and its answer, and drops the connection
   when a drop-after-record fault asked for it;
2. ``authenticate`` answers 401/403;
3. ``fault_gate`` decides the request's fault and answers the "before handler" ones (5xx,
   429, HTML pages, hangs);
4. ``idempotency`` de-duplicates ``X-RMS-RequestId`` POSTs and writes the ledger;
5. ``fault_effects`` adds latency and applies "after handler" faults (drop, 204, broken
   JSON), so the submission is recorded before the client is let down;
6. ``api_errors`` turns :class:`ApiError` into Moody's error bodies.

Routes under ``/__fake__/`` skip all but the last.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from irpd.moodys.fake import faults as fk
from irpd.moodys.fake.answers import DROP, FAULT, SUBMISSION, Submission
from irpd.moodys.fake.api_errors import ApiError, error_response, response_for
from irpd.moodys.fake.context import RETRY_AFTER_GRACE, FakeContext, context_of
from irpd.moodys.fake.idempotency import StoredAnswer
from irpd.moodys.fake.ledger import LedgerEntry, RequestRecord

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ADMIN_PREFIX = "/__fake__/"
#: routes whose 200 answers a not-ready fault turns into 204
STATUS_READS = frozenset({"get_workflow", "get_platform_job"})
WRITE_METHODS = frozenset({"POST", "PATCH"})


def _is_admin(request: web.Request) -> bool:
    return request.path.startswith(ADMIN_PREFIX)


@web.middleware
async def request_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log the request; perform a requested connection drop."""
    if _is_admin(request):
        return await handler(request)
    ctx = context_of(request)
    log = ctx.requests
    arrival = time.monotonic()
    wall = time.time()
    seq = log.next_seq()
    inside = log.inside_retry_after(arrival)
    status, outcome = 0, "error"
    try:
        response = await handler(request)
        if request.get(DROP):
            outcome = "dropped"
            if request.transport is not None:
                request.transport.abort()
        else:
            status, outcome = response.status, "ok"
        return response
    except web.HTTPException as exc:
        status, outcome = exc.status, "ok"
        raise
    except asyncio.CancelledError:
        outcome = "cancelled"
        raise
    finally:
        decision = request.get(FAULT)
        log.append(
            RequestRecord(
                seq=seq,
                method=request.method,
                path=request.path,
                query=request.query_string,
                status=status,
                outcome=outcome,
                fault=decision.label if decision is not None else None,
                request_id=request.headers.get("X-RMS-RequestId"),
                inside_retry_after=inside,
                wall_time=wall,
                monotonic=arrival,
                duration=time.monotonic() - arrival,
                sim_time=ctx.sim_iso(),
                user_agent=request.headers.get("User-Agent"),
            )
        )


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """401 ``IAM-001`` for a missing/unknown key, 403 for a forbidden one."""
    if _is_admin(request):
        return await handler(request)
    settings = context_of(request).settings
    header = request.headers.get("Authorization", "").strip()
    token = header[7:].strip() if header[:7].lower() == "bearer " else header
    if token and token in settings.forbidden_keys:
        action = f"{request.method} {request.path}"
        return error_response(
            403, "IAM-003", f"You are not authorized to perform the '{action}' action."
        )
    if not token or token not in settings.api_keys:
        return error_response(401, "IAM-001", "Unauthorized: missing or invalid credentials.")
    return await handler(request)


@web.middleware
async def fault_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Decide this request's fault; answer it here when it replaces the handler."""
    if _is_admin(request):
        return await handler(request)
    ctx = context_of(request)
    decision = ctx.faults.decide(request.method, request.path)
    if decision is None:
        return await handler(request)
    request[FAULT] = decision
    if decision.kind not in fk.BEFORE_HANDLER:
        return await handler(request)
    return await _answer_fault(ctx, decision)


async def _answer_fault(ctx: FakeContext, decision: fk.FaultDecision) -> web.StreamResponse:
    rule = decision.rule
    assert rule is not None
    if decision.kind == fk.HANG:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.shutdown.wait(), timeout=rule.hang_seconds)
        return _html_page(504, "Gateway Timeout")
    if decision.kind == fk.HTML_ERROR:
        return _html_page(rule.html_error_status, "Bad Gateway")
    if decision.kind == fk.RATE_LIMIT:
        seconds = rule.retry_after_seconds
        now = time.monotonic()
        ctx.requests.open_retry_after_window(now + RETRY_AFTER_GRACE, now + seconds)
        response = error_response(429, "RATE-429", "Too many requests.")
        response.headers["Retry-After"] = _seconds_header(seconds)
        return response
    if decision.kind == fk.RATE_LIMIT_BARE:
        return error_response(429, "RATE-429", "Too many requests.")
    status = decision.error_status
    if status == 500:
        return error_response(500, "INT-500", "Sorry, we encountered an internal error.")
    return web.Response(status=status, text=f"{status} upstream unavailable")


def _seconds_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _html_page(status: int, reason: str) -> web.Response:
    return web.Response(
        status=status,
        text=fk.HTML_PAGE.format(status=status, reason=reason),
        content_type="text/html",
    )


@web.middleware
async def idempotency(request: web.Request, handler: Handler) -> web.StreamResponse:
    """``X-RMS-RequestId`` de-duplication and the submission ledger (POST/PATCH)."""
    if _is_admin(request) or request.method not in WRITE_METHODS:
        return await handler(request)
    ctx = context_of(request)
    key = request.headers.get("X-RMS-RequestId") or None
    now = ctx.simulation.now()
    if key is not None:
        found = ctx.idempotency.lookup(key, now)
        if found is True:
            await _write_ledger(request, ctx, key, 409, replay=False)
            return error_response(
                409,
                "REQUEST-409",
                f"A request with X-RMS-RequestId {key} is still being processed; retry later.",
            )
        if isinstance(found, StoredAnswer):
            return await _replay(request, ctx, key, found)
        ctx.idempotency.claim(key, now)
    try:
        response = await handler(request)
    except BaseException:
        if key is not None:
            ctx.idempotency.release(key)
        raise
    entry = await _write_ledger(request, ctx, key, response.status, replay=False)
    if key is not None:
        if 200 <= response.status < 300 and isinstance(response, web.Response):
            ctx.idempotency.complete(
                key,
                StoredAnswer(
                    response.status,
                    response.headers.get("Location"),
                    response.content_type if response.body else None,
                    bytes(response.body or b"") if isinstance(response.body, bytes) else b"",
                    entry.seq,
                ),
            )
        else:
            ctx.idempotency.release(key)
    return response


async def _replay(
    request: web.Request, ctx: FakeContext, key: str, answer: StoredAnswer
) -> web.Response:
    original = ctx.ledger.get(answer.ledger_seq)
    if original is not None:
        request[SUBMISSION] = Submission(
            original.name, original.type, original.workflow_id, original.location
        )
    await _write_ledger(request, ctx, key, answer.status, replay=True)
    headers = {"Location": answer.location} if answer.location else {}
    if answer.body:
        return web.Response(
            status=answer.status,
            body=answer.body,
            headers=headers,
            content_type=answer.content_type,
        )
    return web.Response(status=answer.status, headers=headers)


async def _write_ledger(
    request: web.Request, ctx: FakeContext, key: str | None, status: int, *, replay: bool
) -> LedgerEntry:
    body = (await request.read()).decode("utf-8", errors="replace")
    submission = request.get(SUBMISSION)
    match = request.match_info.route
    entry = LedgerEntry(
        seq=ctx.ledger.next_seq(),
        request_id=key,
        operation=match.name or "unknown",
        method=request.method,
        path=request.path_qs,
        name=submission.name if submission else None,
        type=submission.type if submission else None,
        workflow_id=submission.workflow_id if submission else None,
        location=submission.location if submission else None,
        status=status,
        replay=replay,
        sim_time=ctx.sim_iso(),
        wall_time=time.time(),
        body_text=body,
    )
    ctx.ledger.append(entry)
    return entry


@web.middleware
async def fault_effects(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Latency before the handler; drop, 204 or broken JSON after it."""
    decision = request.get(FAULT)
    if decision is None:
        return await handler(request)
    if decision.latency > 0:
        await asyncio.sleep(decision.latency)
    response = await handler(request)
    kind = decision.kind
    if kind == fk.DROP_AFTER_RECORD:
        request[DROP] = True
        return response
    if not isinstance(response, web.Response) or not isinstance(response.body, bytes):
        return response
    if (
        kind == fk.NOT_READY
        and response.status == 200
        and (request.match_info.route.name in STATUS_READS)
    ):
        return web.Response(status=204)
    if (
        kind in (fk.MALFORMED_JSON, fk.TRUNCATED_JSON)
        and response.body
        and (response.content_type == "application/json")
    ):
        mangle = fk.malformed if kind == fk.MALFORMED_JSON else fk.truncated
        broken = web.Response(
            status=response.status, body=mangle(response.body), content_type="application/json"
        )
        if "Location" in response.headers:
            broken.headers["Location"] = response.headers["Location"]
        return broken
    return response


@web.middleware
async def api_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer :class:`ApiError` with Moody's error body."""
    try:
        return await handler(request)
    except ApiError as exc:
        return response_for(exc)


MIDDLEWARES = (request_log, authenticate, fault_gate, idempotency, fault_effects, api_errors)
