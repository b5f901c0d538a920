"""``irpd web``: the console's process — its own database pool, its own LISTEN connection,
the aiohttp application (pages, actions, live events, HTTP API) and the security middleware.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import structlog
from aiohttp import web

from irpd.config import Config
from irpd.db.acting import acting
from irpd.db.bootstrap import open_database
from irpd.db.database import Database
from irpd.db.listen import Listener
from irpd.errors import ConfigError
from irpd.excel import load_workbook
from irpd.monitoring.web import CONTENT_TYPE, WebMetrics
from irpd.ops.facade import Operations
from irpd.systemd import Notifier
from irpd.transformers import builtin_registry
from irpd.web import api, pages
from irpd.web.actions import Actions
from irpd.web.auth import (
    SESSION_COOKIE,
    Accounts,
    AuthSettings,
    Identity,
    Signer,
    new_session,
    proxy_identity,
)
from irpd.web.context import CONTEXT, HERE, Console, console, set_session, templates
from irpd.web.live import CHANNEL, Hub
from irpd.web.reads import Reads

log = structlog.get_logger("irpd.web")

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: reachable without an identity
PUBLIC = ("/login", "/static/", "/healthz", "/metrics", "/api/v1/openapi.json")
#: the console's Prometheus metrics (docs/monitoring.md)
METRICS = web.AppKey("metrics", WebMetrics)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


async def _csrf_ok(request: web.Request, expected: str) -> bool:
    sent = request.headers.get("X-CSRF-Token", "")
    if not sent and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        form = await request.post()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else ""
    return bool(sent) and sent == expected


def _identify(request: web.Request, ctx: Console, session: dict[str, Any]) -> Identity | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return ctx.accounts.bearer(header[7:].strip())
    found = proxy_identity(ctx.auth, request.remote, request.headers)
    if found is not None:
        return found
    if session.get("user") and session.get("role") in ("viewer", "operator"):
        return Identity(str(session["user"]), session["role"], "session")
    if ctx.auth.anonymous_role is not None:
        return Identity("anonymous", ctx.auth.anonymous_role, "anonymous")
    return None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Identity, session, CSRF, and security headers on every response."""
    ctx = console(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    session = ctx.signer.loads(cookie) if cookie else None
    fresh = session is None
    if session is None:
        session = new_session(ctx.auth.session_hours)
    request["session"] = session
    request["csrf"] = ctx.signer.csrf(str(session["sid"]))
    who = _identify(request, ctx, session)
    request["identity"] = who
    is_api = request.path.startswith("/api/")
    public = request.path.startswith(PUBLIC)
    try:
        if request.headers.get("Authorization", "").startswith("Bearer ") and who is None:
            response: web.StreamResponse = api.error_response(
                401, "Unauthenticated", "unknown API token"
            )
        elif who is None and not public:
            response = (
                api.error_response(401, "Unauthenticated", "log in or send an API token")
                if is_api
                else web.HTTPSeeOther(f"/login?next={request.path_qs}")
            )
        elif (
            request.method in UNSAFE
            and (who is None or who.via != "token")
            and not await _csrf_ok(request, request["csrf"])
        ):
            response = (
                api.error_response(403, "PermissionDenied", "missing or wrong CSRF token")
                if is_api
                else pages.error_page(request, 403, "This form is out of date (CSRF check).")
            )
        else:
            response = await handler(request)
    except web.HTTPException as exc:
        if not is_api or exc.status < 400:
            raise
        response = api.error_response(exc.status, "ProtocolError", exc.reason)
    if fresh and not response.prepared and (who is None or who.via != "token"):
        set_session(request, response, session)
    if not response.prepared:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
    return response


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers and knows whether its database does."""
    ctx = console(request)
    ok = await ctx.db.ping()
    return web.json_response(
        {"ok": ok, "live_pages": ctx.hub.subscribers}, status=200 if ok else 503
    )


@web.middleware
async def metered(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every request's route template, status and latency (irpd_web_request_duration_seconds)."""
    started = asyncio.get_running_loop().time()
    code = 500
    try:
        response = await handler(request)
        code = response.status
        return response
    except web.HTTPException as exc:
        code = exc.status
        raise
    finally:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        seconds = asyncio.get_running_loop().time() - started
        request.app[METRICS].observe(route, code, seconds)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics of this console process (from memory; no database query)."""
    body = request.app[METRICS].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def build_app(ctx: Console) -> web.Application:
    """The aiohttp application of one console."""
    app = web.Application(middlewares=[metered, security], client_max_size=80 * 1024 * 1024)
    app[CONTEXT] = ctx
    app[METRICS] = WebMetrics(ctx.db, lambda: ctx.hub.subscribers)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_static("/static/", HERE / "static", name="static")
    pages.add_routes(app)
    api.add_routes(app)
    return app


def build_console(config: Config, db: Database, signer: Signer | None = None) -> Console:
    """Wire the console over an open database (validates the ``[web]`` settings)."""
    ops = Operations(db, builtin_registry(), load_workbook)
    reads = Reads(db, ops)
    return Console(
        db=db,
        reads=reads,
        actions=Actions(ops, db),
        hub=Hub(reads.live),
        auth=AuthSettings.from_config(config.web),
        accounts=Accounts.load(config.web.accounts_file),
        signer=signer or Signer.from_file(config.web.session_key_file),
        templates=templates(),
        page_size=config.web.page_size,
    )


def parse_listen(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:8457`` for IPv6)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"web.listen: expected host:port, got {listen!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


async def run_web(config: Config) -> int:
    """Serve the console until SIGTERM/SIGINT (what ``irpd web`` and irpd-web.service run)."""
    host, port = parse_listen(config.web.listen)
    # the daemon migrates; the console never changes the schema
    settings = replace(config.database, pool_min_size=1, pool_max_size=config.web.pool_max_size)
    opened = await open_database(settings, config.state.dir, migrate_now=False)
    db = acting(opened.db)
    ctx = build_console(config, db)
    listener = Listener(opened.db.dsn, CHANNEL, ctx.hub.notified)
    app = build_app(ctx)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=3.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    tasks: list[asyncio.Task[None]] = []
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await site.start()
        tasks = [asyncio.create_task(listener.run()), asyncio.create_task(ctx.hub.run())]
        log.info("web_started", url=f"http://{host}:{port}/", pid=os.getpid())
        Notifier().ready(f"serving http://{host}:{port}/")
        await stop.wait()
        log.info("web_stopping")
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runner.cleanup()
        await db.close()
        await opened.close()
    return 0
