"""Name lookups (portfolios, treaties, analyses/groups, EDMs) and reference data (§9)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from aiohttp import web

from irpd.moodys.fake.answers import json_response
from irpd.moodys.fake.api_errors import bad_request, not_found
from irpd.moodys.fake.context import context_of
from irpd.moodys.fake.filters import Filter, FilterSyntaxError, parse_filter
from irpd.moodys.fake.routes_submissions import require_datasource
from irpd.moodys.fake.validation import is_number


def _filter(raw: str | None, code: str = "SEARCH-001") -> Filter | None:
    if raw is None or not raw.strip():
        return None
    try:
        return parse_filter(raw)
    except FilterSyntaxError as exc:
        raise bad_request(code, f"Invalid search query {raw!r}: {exc}") from exc


def _search(
    query: Filter | None,
    by_name: Callable[[str], list[dict[str, Any]]],
    everything: Callable[[], list[dict[str, Any]]],
) -> web.Response:
    """Answer ``q=``: a lone ``name = "…"`` goes through the (lenient) name lookup."""
    name = query.equals("name") if query is not None else None
    if name is not None:
        items = by_name(name)
    else:
        items = [i for i in everything() if query is None or query.test(i)]
    return json_response({"searchTotalMatch": len(items), "searchItems": items})


async def search_portfolios(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v2/portfolios?datasource=&q=name="…"``."""
    ctx = context_of(request)
    edm = require_datasource(request)
    return _search(
        _filter(request.query.get("q")),
        lambda name: ctx.registry.lookup_portfolios(edm, name),
        lambda: [p.as_item() for p in ctx.registry.portfolios(edm)],
    )


async def get_portfolio(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v2/portfolios/{id}`` for portfolios the fake created."""
    raw = request.match_info["portfolio_id"]
    found = context_of(request).registry.portfolio_by_id(int(raw)) if is_number(raw) else None
    if found is None:
        raise not_found("PORTFOLIO-404", f"Portfolio {raw} was not found.")
    return json_response(found.as_item())


async def search_treaties(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v1/treaties?datasource=&q=name="…"``."""
    ctx = context_of(request)
    edm = require_datasource(request)
    return _search(
        _filter(request.query.get("q")),
        lambda name: ctx.registry.lookup_treaties(edm, name),
        lambda: [
            {"id": t.id, "name": t.name} for t in ctx.catalogue.treaties if t.datasource == edm
        ],
    )


async def search_analyses(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v2/analyses?q=name="…"`` → analyses and groups."""
    ctx = context_of(request)
    now = ctx.simulation.now()
    query = _filter(request.query.get("q"))
    name = query.equals("name") if query is not None else None
    if name is None:
        raise bad_request("SEARCH-002", 'The fake answers only q=name="<name>" here.')
    items = ctx.registry.lookup_results(name, now)
    return json_response({"searchTotalMatch": len(items), "searchItems": items})


async def search_datasources(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v2/datasources?q=datasourceName="…"`` (EDMs whose create finished)."""
    ctx = context_of(request)
    query = _filter(request.query.get("q"))
    items = [
        i for i in ctx.registry.datasources(ctx.simulation.now()) if query is None or query.test(i)
    ]
    return json_response({"searchTotalMatch": len(items), "searchItems": items})


async def model_profiles(request: web.Request) -> web.Response:
    """``GET /analysis-settings/modelprofiles?name=`` → ``{items, count}``."""
    catalogue = context_of(request).catalogue
    name = request.query.get("name")
    found = catalogue.model_profiles if name is None else catalogue.model_profiles_named(name)
    items = [asdict(p) for p in found]
    return json_response({"items": items, "count": len(items)})


async def output_profiles(request: web.Request) -> web.Response:
    """``GET /analysis-settings/outputprofiles?name=`` → a bare array."""
    catalogue = context_of(request).catalogue
    name = request.query.get("name")
    found = catalogue.output_profiles if name is None else catalogue.output_profiles_named(name)
    return json_response([asdict(p) for p in found])


async def event_rate_schemes(request: web.Request) -> web.Response:
    """``GET /data-store/referencetables/eventratescheme?where=`` → ``{items, count}``."""
    catalogue = context_of(request).catalogue
    where = _filter(request.query.get("where"), "REFDATA-001")
    items = [asdict(s) for s in catalogue.event_rate_schemes]
    items = [i for i in items if where is None or where.test(i)]
    return json_response({"items": items, "count": len(items)})


def add_routes(app: web.Application) -> None:
    """Register lookup and reference-data routes."""
    get = app.router.add_get
    get("/riskmodeler/v2/portfolios", search_portfolios, name="search_portfolios")
    get("/riskmodeler/v2/portfolios/{portfolio_id}", get_portfolio, name="get_portfolio")
    get("/riskmodeler/v1/treaties", search_treaties, name="search_treaties")
    get("/riskmodeler/v2/analyses", search_analyses, name="search_analyses")
    get("/riskmodeler/v2/datasources", search_datasources, name="search_datasources")
    get("/analysis-settings/modelprofiles", model_profiles, name="model_profiles")
    get("/analysis-settings/outputprofiles", output_profiles, name="output_profiles")
    get(
        "/data-store/referencetables/eventratescheme", event_rate_schemes, name="event_rate_schemes"
    )
