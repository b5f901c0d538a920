"""Reinsurance treaties (§ treaties of the replaced system's client): the coded values a
treaty names, an EDM's cedants and lines of business, create treaty (synchronous, 201) and
the batch assignment of lines of business to a treaty."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any, Final

from aiohttp import web

from irpd.moodys.fake import validation as rules
from irpd.moodys.fake.answers import created, json_response
from irpd.moodys.fake.api_errors import bad_request
from irpd.moodys.fake.context import context_of
from irpd.moodys.fake.routes_submissions import require_datasource

RM: Final = "/riskmodeler/v1"
#: the fake tenant's coded values, by domain table
DOMAIN_VALUES: Final[Mapping[str, tuple[dict[str, str], ...]]] = {
    "TreatyType": (
        {"code": "WX", "name": "Working Excess"},
        {"code": "QS", "name": "Quota Share"},
        {"code": "CATXL", "name": "Catastrophe Excess"},
    ),
    "AttachBasis": (
        {"code": "L", "name": "Losses Occurring"},
        {"code": "R", "name": "Risks Attaching"},
    ),
    "AttachLevel": (
        {"code": "POL", "name": "Policy"},
        {"code": "PORT", "name": "Portfolio"},
        {"code": "LOC", "name": "Location"},
        {"code": "ACC", "name": "Account"},
    ),
    "currency": (
        {"code": "USD", "name": "US Dollar"},
        {"code": "EUR", "name": "Euro"},
        {"code": "GBP", "name": "British Pound"},
        {"code": "CAD", "name": "Canadian Dollar"},
    ),
}
CEDANTS: Final = ({"id": "1", "name": "Default Cedant"},)
LOBS: Final = ({"id": "1", "name": "Commercial"}, {"id": "2", "name": "Residential"})
MAX_TREATY_NUMBER: Final = 20
_REQUIRED_CODED: Final = ("treatyType", "attachBasis", "attachLevel", "currency", "cedant")
_AMOUNTS: Final = (
    "riskLimit", "occurLimit", "attachPt", "premium", "aggregateLimit", "aggregateDeductible",
)
_PERCENTS: Final = ("pcntCovered", "pcntPlaced", "pcntRiShare", "pcntRetent")
_LOB_PATH: Final = re.compile(r"^/(\d+)/lob$")


async def domain_values(request: web.Request) -> web.Response:
    """``GET …/entities/{entity}/values``: ``{"entityItems": {"values": [{code, name}]}}``."""
    values = DOMAIN_VALUES.get(request.match_info["entity"], ())
    return json_response({"entityItems": {"values": list(values)}})


def _edm_known(request: web.Request, edm: str) -> bool:
    ctx = context_of(request)
    return not ctx.registry.strict or ctx.registry.edm_state(edm, ctx.simulation.now()) == "exists"


async def cedants(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v1/cedants?datasource=`` (searchItems)."""
    edm = require_datasource(request)
    items = list(CEDANTS) if _edm_known(request, edm) else []
    return json_response({"searchTotalMatch": len(items), "searchItems": items})


async def lobs(request: web.Request) -> web.Response:
    """``GET /riskmodeler/v1/lobs?datasource=`` (searchItems)."""
    edm = require_datasource(request)
    items = list(LOBS) if _edm_known(request, edm) else []
    return json_response({"searchTotalMatch": len(items), "searchItems": items})


def _check_treaty(body: dict[str, Any]) -> str:
    name = body.get("treatyName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("TREATY-002", "treatyName is required.")
    number = body.get("treatyNumber")
    if not isinstance(number, str) or not number or len(number) > MAX_TREATY_NUMBER:
        raise bad_request("TREATY-003", "treatyNumber is required, at most 20 characters.")
    for key in _REQUIRED_CODED:
        if not isinstance(body.get(key), dict):
            raise bad_request("TREATY-004", f"{key} must be an object with its code.")
    for key in (*_AMOUNTS, *_PERCENTS):
        value = body.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise bad_request("TREATY-005", f"{key} must be a non-negative number.")
    for key in _PERCENTS:
        if body[key] > 100:
            raise bad_request("TREATY-006", f"{key} must be within 0-100.")
    if not (isinstance(body.get("effectDate"), str) and isinstance(body.get("expireDate"), str)):
        raise bad_request("TREATY-007", "effectDate and expireDate are required.")
    if body["effectDate"] >= body["expireDate"]:
        raise bad_request("TREATY-008", "effectDate must be before expireDate.")
    return name.strip()


async def create_treaty(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v1/treaties?datasource=`` → 201 + ``Location``, no workflow."""
    ctx = context_of(request)
    edm = require_datasource(request)
    if not _edm_known(request, edm):
        raise bad_request("DS-404", f"The database {edm} does not exist.")
    body = rules.require_object(rules.parse_json(await request.text()))
    name = _check_treaty(body)
    if ctx.registry.find_treaty(edm, name) is not None:
        raise bad_request("TREATY-001", f"A treaty named {name} already exists in {edm}.")
    treaty_id = ctx.registry.create_treaty(edm, name, body)
    return created(request, f"{RM}/treaties/{treaty_id}", name=name, kind="TREATY")


def _lob_item(item: Any) -> tuple[int, str]:
    if not isinstance(item, dict) or item.get("method") != "POST":
        raise bad_request("TREATY-010", "each item needs method POST, path and body.")
    match = _LOB_PATH.match(str(item.get("path", "")))
    if match is None:
        raise bad_request("TREATY-011", "path must be /{treatyId}/lob.")
    try:
        lob = ast.literal_eval(str(item.get("body")))
    except (ValueError, SyntaxError):
        raise bad_request("TREATY-012", "body must name the lob id.") from None
    if not isinstance(lob, dict) or "id" not in lob:
        raise bad_request("TREATY-012", "body must name the lob id.")
    return int(match.group(1)), str(lob["id"])


async def assign_lobs(request: web.Request) -> web.Response:
    """``POST /riskmodeler/v1/treaties/lob/batch?datasource=``: one result per item."""
    ctx = context_of(request)
    require_datasource(request)
    items = rules.parse_json(await request.text())
    if not isinstance(items, list) or not items:
        raise bad_request("TREATY-009", "The body must be a non-empty list of operations.")
    results = []
    for item in items:
        treaty_id, lob = _lob_item(item)
        ok = ctx.registry.assign_treaty_lob(treaty_id, lob)
        results.append({"status": 201 if ok else 404, "path": f"/{treaty_id}/lob"})
    return json_response(results, status=207 if any(r["status"] != 201 for r in results) else 200)


def add_routes(app: web.Application) -> None:
    """Register the treaty routes."""
    get, post = app.router.add_get, app.router.add_post
    get(f"{RM}/domains/{{domain}}/tablespace/{{space}}/entities/{{entity}}/values", domain_values,
        name="domain_values")
    get(f"{RM}/cedants", cedants, name="cedants")
    get(f"{RM}/lobs", lobs, name="lobs")
    post(f"{RM}/treaties", create_treaty, name="create_treaty")
    post(f"{RM}/treaties/lob/batch", assign_lobs, name="assign_treaty_lobs")
