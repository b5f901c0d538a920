"""The console's HTML pages (server-rendered, Jinja2), its form actions and the live event
stream. Every page works without JavaScript; ``static/app.js`` adds live updates."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from irpd.control.protocol import ProtocolError
from irpd.errors import DomainError
from irpd.ops.overrides import FIXED_KEYS
from irpd.web import charts
from irpd.web.actions import ACTIONS, Forbidden, refusal
from irpd.web.auth import new_session
from irpd.web.context import console, identity, set_session
from irpd.web.reads import JOB_STATUSES, SORTS, JobsQuery

FLASH_COOKIE = "irpd_flash"
HEARTBEAT_SECONDS = 15.0


def render(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """A page: the template with the user, CSRF token and any flash message."""
    ctx = console(request)
    who = identity(request)
    flash = None
    raw = request.cookies.get(FLASH_COOKIE)
    if raw:
        flash = ctx.signer.loads(raw)
    html = ctx.templates.get_template(template).render(
        user=who,
        csrf=request["csrf"],
        flash=flash,
        path=request.path_qs,
        charts=charts,
        statuses=JOB_STATUSES,
        **values,
    )
    response = web.Response(text=html, status=status, content_type="text/html")
    if raw:
        response.del_cookie(FLASH_COOKIE, path="/")
    return response


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    """A plain error page (used by the middleware too)."""
    return render(request, "error.html", status=status, status_code=status, message=message)


def _int(request: web.Request, name: str) -> int:
    text = request.match_info[name]
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise web.HTTPNotFound(reason=f"no such {name}")
    return int(text)


async def _guard(request: web.Request, coro: Any) -> Any:
    """Run a read; a domain refusal (not found …) becomes a 404 page."""
    try:
        return await coro
    except DomainError as exc:
        raise web.HTTPNotFound(reason=str(exc)) from None


async def index(_request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/cycles")


async def cycles_page(request: web.Request) -> web.Response:
    ctx = console(request)
    return render(request, "cycles.html", cycles=await ctx.reads.cycles(), live="*")


async def cycle_page(request: web.Request) -> web.Response:
    ctx = console(request)
    cycle_id = _int(request, "cycle_id")
    cycle = await _guard(request, ctx.reads.cycle(cycle_id))
    timeline = await ctx.reads.cycle_timeline(cycle_id)
    live = ",".join(str(b["batch_id"]) for b in cycle["batches"]) or "none"
    return render(request, "cycle.html", cycle=cycle, timeline=timeline, live=live)


def _jobs_query(request: web.Request, batch_id: int, page_size: int) -> JobsQuery:
    q = request.query
    skipped = {"yes": True, "no": False}.get(q.get("skipped", ""))
    status = q.get("status") or None
    return JobsQuery(
        batch_id=batch_id,
        status=status if status in JOB_STATUSES else None,
        skipped=skipped,
        search=(q.get("q") or "").replace("\x00", "").strip()[:200] or None,
        sort=q.get("sort", "id") if q.get("sort", "id") in SORTS else "id",
        after=q.get("after") or None,
        limit=page_size,
    )


async def batch_page(request: web.Request) -> web.Response:
    ctx = console(request)
    batch_id = _int(request, "batch_id")
    batch = await _guard(request, ctx.reads.batch(batch_id))
    query = _jobs_query(request, batch_id, ctx.page_size)
    try:
        page = await ctx.reads.jobs_page(query)
    except DomainError:  # a cursor from elsewhere: start again
        query = JobsQuery(batch_id, query.status, query.skipped, query.search, query.sort)
        page = await ctx.reads.jobs_page(query)
    configs = await ctx.reads.job_configurations_page(batch_id, None, 20)
    return render(
        request,
        "batch.html",
        batch=batch,
        report=batch["report"],
        page=page,
        query=query,
        sorts=list(SORTS),
        configs=configs,
        live=str(batch_id),
    )


async def batch_charts(request: web.Request) -> web.Response:
    """The batch's run-time chart (a fragment, loaded after the page)."""
    ctx = console(request)
    batch_id = _int(request, "batch_id")
    times = await ctx.reads.run_times(batch_id)
    svg = charts.histogram_svg(times["counts"], times["buckets"], times["low"], times["high"])
    return web.Response(text=svg, content_type="text/html")


async def job_page(request: web.Request) -> web.Response:
    ctx = console(request)
    job_id = _int(request, "job_id")
    history = await _guard(request, ctx.reads.job(job_id))
    config = history["job_configuration"]["job_configuration_data"]
    fields = [  # the keys naming the job first, read-only (the operations refuse changes)
        {
            "key": k,
            "value": v if isinstance(v, str) else json.dumps(v),
            "kind": _kind(v),
            "fixed": k in FIXED_KEYS,
        }
        for k, v in sorted(config.items(), key=lambda kv: (kv[0] not in FIXED_KEYS, kv[0]))
    ]
    live = str(history["job"]["batch_id"])
    return render(request, "job.html", h=history, job=history["job"], fields=fields, live=live)


async def attention_page(request: web.Request) -> web.Response:
    ctx = console(request)
    return render(request, "attention.html", attention=await ctx.reads.attention(), live="*")


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "json"


def parse_field(original: Any, text: str) -> Any:
    """An edited parameter as the original's type; ``ValueError`` names what is wrong."""
    kind = _kind(original)
    if kind == "text":
        return text
    if kind == "boolean":
        if text.strip().lower() not in ("true", "false"):
            raise ValueError("must be true or false")
        return text.strip().lower() == "true"
    if kind == "integer":
        return int(text.strip())
    if kind == "number":
        number = float(text.strip())
        if not math.isfinite(number):
            raise ValueError("must be a finite number")
        return number
    return json.loads(text)


def override_from_form(
    original: dict[str, Any], form: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The whole new configuration and the changed keys, from the editor's ``param:KEY``
    fields (only fields that differ from the original count)."""
    changed: list[str] = []
    merged = dict(original)
    for key, value in original.items():
        sent = form.get(f"param:{key}")
        shown = value if isinstance(value, str) else json.dumps(value)
        if sent is None or sent == shown:
            continue
        try:
            merged[key] = parse_field(value, sent)
        except ValueError as exc:
            raise DomainErrorForField(key, str(exc)) from None
        if merged[key] != value:
            changed.append(key)
    return merged, changed


class DomainErrorForField(ValueError):
    """A parameter of the override editor that does not parse."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"Parameter {key!r} {problem}; nothing was saved.")


def _back(request: web.Request, form: Any) -> str:
    target = str(form.get("next") or request.headers.get("Referer") or "/cycles")
    parts = urlsplit(target)
    path = parts.path if parts.path.startswith("/") and not parts.path.startswith("//") else "/"
    return path + (f"?{parts.query}" if parts.query else "")


def _flash(request: web.Request, response: web.StreamResponse, kind: str, text: str) -> None:
    ctx = console(request)
    payload = {"kind": kind, "text": text[:500], "exp": time.time() + 120}
    response.set_cookie(
        FLASH_COOKIE,
        ctx.signer.dumps(payload),
        max_age=120,
        httponly=True,
        samesite="Strict",
        path="/",
    )


async def action(request: web.Request) -> web.StreamResponse:
    """A form post: run the action as the user, then back to the page with the outcome."""
    ctx = console(request)
    who = identity(request)
    name = request.match_info["name"]
    form = await request.post()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    back = _back(request, form)
    response = web.HTTPSeeOther(back)
    if name not in ACTIONS or who is None:
        _flash(request, response, "error", f"Unknown action {name!r}.")
        return response
    try:
        args = await _form_args(request, name, fields)
        result = await ctx.actions.run(who, name, args)
    except Forbidden as exc:
        return error_page(request, 403, str(exc))
    except DomainErrorForField as exc:
        _flash(request, response, "error", str(exc))
        return response
    except Exception as exc:
        found = refusal(exc)
        if found is None:
            raise
        _flash(request, response, "error", f"{found.type}: {found.message}")
        return response
    _flash(request, response, "ok", _done(name, result))
    if name == "job.resubmit" and isinstance(result, dict) and "job_id" in result:
        response = web.HTTPSeeOther(f"/jobs/{int(result['job_id'])}")
        _flash(request, response, "ok", _done(name, result))
    return response


async def _form_args(request: web.Request, name: str, form: dict[str, str]) -> dict[str, Any]:
    """Form fields → the action's arguments (ids as integers, reasons trimmed)."""
    args: dict[str, Any] = {}
    for arg in ACTIONS[name].args:
        text = form.get(arg.name)
        if text is None or text == "":
            continue
        if arg.type == "id":
            if not text.strip().isdigit():
                raise ProtocolError(f"{name}: argument {arg.name!r} must be an integer")
            args[arg.name] = int(text)
        elif arg.type == "bool":
            args[arg.name] = text in ("1", "true", "on", "yes")
        elif arg.type == "str":
            args[arg.name] = text
    if name == "job.resubmit" and form.get("mode") == "override":
        ctx = console(request)
        current = await ctx.reads.ops.jobs.get_job_config(int(args["job_id"]))
        merged, changed = override_from_form(current["job_configuration_data"], form)
        if not changed:
            raise DomainErrorForField("(none)", "changed: edit at least one parameter")
        args["override"] = merged
    return args


def _done(name: str, result: Any) -> str:
    if not isinstance(result, dict):
        return f"{name}: done."
    if name == "job.resubmit":
        queued = " and queued for submission" if result.get("submitted") else ""
        return (
            f"Job {result.get('parent_job_id')} resubmitted as job {result.get('job_id')}{queued}."
        )
    if name == "batch.submit":
        return (
            f"Batch {result.get('batch_id')} submitted: {result.get('submitted_jobs')} jobs queued."
        )
    if "job_id" in result:
        return f"Job {result['job_id']}: {result.get('status')}."
    return f"{name}: done."


async def login_form(request: web.Request) -> web.Response:
    return render(request, "login.html", next=_safe_next(request.query.get("next")), error=None)


async def login(request: web.Request) -> web.StreamResponse:
    ctx = console(request)
    form = await request.post()
    user, password = str(form.get("user", "")), str(form.get("password", ""))
    found = ctx.accounts.login(user, password) if user and password else None
    target = _safe_next(str(form.get("next", "")))
    if found is None:
        return render(
            request, "login.html", status=401, next=target, error="Wrong user or password."
        )
    response = web.HTTPSeeOther(target)
    set_session(request, response, new_session(ctx.auth.session_hours, found))
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/login")
    response.del_cookie("irpd_session", path="/")
    return response


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/cycles"


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: batch changes as they happen (one listener per process)."""
    ctx = console(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    queue = ctx.hub.subscribe()
    try:
        await response.write(b"retry: 3000\nevent: hello\ndata: {}\n\n")
        while True:
            try:
                chunk = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                chunk = ": keep-alive\n\n"
            await response.write(chunk.encode())
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        ctx.hub.unsubscribe(queue)
        with contextlib.suppress(Exception):
            await response.write_eof()
    return response


def add_routes(app: web.Application) -> None:
    """The page routes."""
    r = app.router
    r.add_get("/", index)
    r.add_get("/login", login_form)
    r.add_post("/login", login)
    r.add_post("/logout", logout)
    r.add_get("/cycles", cycles_page)
    r.add_get("/cycles/{cycle_id}", cycle_page)
    r.add_get("/batches/{batch_id}", batch_page)
    r.add_get("/batches/{batch_id}/charts", batch_charts)
    r.add_get("/jobs/{job_id}", job_page)
    r.add_get("/attention", attention_page)
    r.add_get("/events", events)
    r.add_post("/actions/{name}", action)
