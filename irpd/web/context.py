"""What every request handler of the console shares: the :class:`Console` and the request's
identity and session helpers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

import irpd
from irpd.db.database import Database
from irpd.web.actions import Actions
from irpd.web.auth import SESSION_COOKIE, Accounts, AuthSettings, Identity, Signer
from irpd.web.live import Hub
from irpd.web.reads import Reads

HERE = Path(__file__).resolve().parent

CONTEXT: web.AppKey[Console] = web.AppKey("console")


@dataclass
class Console:
    """Everything a request handler needs."""

    db: Database
    reads: Reads
    actions: Actions
    hub: Hub
    auth: AuthSettings
    accounts: Accounts
    signer: Signer
    templates: jinja2.Environment
    page_size: int


def console(request: web.Request) -> Console:
    """The console of the application serving ``request``."""
    return request.app[CONTEXT]


def identity(request: web.Request) -> Identity | None:
    """Who is asking (set by the middleware)."""
    found = request.get("identity")
    return found if isinstance(found, Identity) else None


def templates() -> jinja2.Environment:
    """The page templates (autoescaped)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = irpd.__version__
    return env


def _is_https(request: web.Request, ctx: Console) -> bool:
    if request.secure:
        return True
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    return forwarded == "https" and request.remote in ctx.auth.proxies


def set_session(
    request: web.Request, response: web.StreamResponse, payload: dict[str, Any]
) -> None:
    """Store ``payload`` as the signed session cookie (HttpOnly, SameSite=Strict)."""
    ctx = console(request)
    response.set_cookie(
        SESSION_COOKIE,
        ctx.signer.dumps(payload),
        max_age=int(ctx.auth.session_hours * 3600),
        httponly=True,
        samesite="Strict",
        secure=ctx.auth.cookie_secure or _is_https(request, ctx),
        path="/",
    )
