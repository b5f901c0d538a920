"""The EDM upkeep operations: create a reinsurance treaty (with its lines of business) in an
EDM, and upgrade an EDM's data version — as the replaced system's client did it.

* Create treaty (synchronous): the treaty's coded values (type, attachment basis and level,
  currency) and the EDM's cedant and lines of business are looked up by name, then
  ``POST /riskmodeler/v1/treaties?datasource=<edm>`` (201 + ``Location``) and
  ``POST /riskmodeler/v1/treaties/lob/batch?datasource=<edm>`` assigns every LOB.
* EDM data upgrade (a workflow, ``EDM_DATA_UPGRADE``):
  ``POST /riskmodeler/v2/datasources?datasourcename=<edm>&operation=EDM_DATA_UPGRADE`` (202).
  The API upgrades to the platform's current EDM data version; the workbook's
  ``EDM Data Version`` travels with the job configuration as the expected version.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from irpd.moodys.errors import InvalidJobConfiguration, UnresolvedReference
from irpd.moodys.operations import RM, RequestSpec, optional_text, text
from irpd.moodys.refdata import same_name
from irpd.moodys.responses import parse_search_items
from irpd.moodys.transport import Transport

MAX_TREATY_NUMBER: Final = 20
#: coded value kind → its domain table path (values answer ``{"entityItems": {"values": […]}}``)
DOMAIN_TABLES: Final[Mapping[str, str]] = {
    "treaty type": f"{RM}/v1/domains/RMS/tablespace/System/entities/TreatyType/values",
    "attachment basis": f"{RM}/v1/domains/RMS/tablespace/System/entities/AttachBasis/values",
    "attachment level": f"{RM}/v1/domains/RMS/tablespace/System/entities/AttachLevel/values",
    "currency": f"{RM}/v1/domains/Client/tablespace/UserConfig/entities/currency/values",
}
_NUMBERS: Final = (
    ("riskLimit", "risk_limit"),
    ("occurLimit", "occurrence_limit"),
    ("attachPt", "attachment_point"),
    ("pcntCovered", "pct_covered"),
    ("pcntPlaced", "pct_placed"),
    ("pcntRiShare", "pct_share"),
    ("pcntRetent", "pct_retention"),
    ("premium", "premium"),
    ("numOfReinst", "reinstatements"),
    ("reinstCharge", "pct_reinstatement_charge"),
    ("aggregateLimit", "aggregate_limit"),
    ("aggregateDeductible", "aggregate_deductible"),
    ("priority", "priority"),
)


def edm_data_upgrade(config: Mapping[str, Any]) -> RequestSpec:
    """``POST /riskmodeler/v2/datasources?datasourcename=…&operation=EDM_DATA_UPGRADE``."""
    params = {"datasourcename": text(config, "database"), "operation": "EDM_DATA_UPGRADE"}
    return RequestSpec("POST", f"{RM}/v2/datasources", params)


def _number(config: Mapping[str, Any], key: str) -> float | int:
    value = config.get(key, 0)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidJobConfiguration(f"job configuration value {key!r} must be a number")
    return value


def create_treaty(
    config: Mapping[str, Any],
    *,
    coded: Mapping[str, Mapping[str, Any]],
    cedant: Mapping[str, Any],
    lobs: Sequence[Mapping[str, Any]],
) -> RequestSpec:
    """The treaty-create request; ``coded`` holds the looked-up coded values by kind."""
    name = text(config, "treaty_name")
    number = optional_text(config, "treaty_number") or name
    currency = coded["currency"]
    body: dict[str, Any] = {
        "treatyNumber": number[:MAX_TREATY_NUMBER],
        "treatyName": name,
        "treatyType": dict(coded["treaty type"]),
        "cedant": dict(cedant),
        "effectDate": text(config, "inception_date"),
        "expireDate": text(config, "expiration_date"),
        "currency": {"code": currency.get("code"), "name": currency.get("name")},
        "attachBasis": dict(coded["attachment basis"]),
        "attachLevel": dict(coded["attachment level"]),
        **{field: _number(config, key) for field, key in _NUMBERS},
        "retentAmt": "",
        "isValid": True,
        "userId1": "",
        "userId2": "",
        "maolAmount": "",
        "lobs": [dict(lob) for lob in lobs],
        "tagIds": [],
    }
    return RequestSpec(
        "POST", f"{RM}/v1/treaties", {"datasource": text(config, "database")}, body
    )


def assign_lobs(database: str, treaty_id: int, lob_ids: Sequence[object]) -> RequestSpec:
    """Assign lines of business to a treaty (one batch request)."""
    body = [
        {"body": str({"id": lob}), "method": "POST", "path": f"/{treaty_id}/lob"}
        for lob in lob_ids
    ]
    return RequestSpec("POST", f"{RM}/v1/treaties/lob/batch", {"datasource": database}, body)


class TreatyReferences:
    """Name → coded value lookups for treaties, and an EDM's cedants and LOBs (not cached:
    a treaty batch makes a handful of them)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def coded(self, kind: str, name: str, database: str) -> Mapping[str, Any]:
        """The coded value (``{code, name}``) of ``kind`` called (or coded) ``name``."""
        params = {"fields": "code,name", "datasource": database, "limit": "100"}
        response = await self._transport.request("GET", DOMAIN_TABLES[kind], params=params)
        body = response.json()
        values = body.get("entityItems", {}).get("values", []) if isinstance(body, dict) else []
        for value in values if isinstance(values, list) else []:
            if isinstance(value, Mapping) and (
                same_name(value.get("name"), name) or same_name(value.get("code"), name)
            ):
                return {"code": value.get("code"), "name": value.get("name")}
        raise UnresolvedReference(kind, name, scope=f"EDM {database!r}")

    async def of_edm(self, what: str, database: str) -> list[Mapping[str, Any]]:
        """The EDM's ``cedants`` or ``lobs`` (``{id, name}`` items)."""
        params = {"fields": "id, name", "datasource": database, "limit": "1000"}
        response = await self._transport.request("GET", f"{RM}/v1/{what}", params=params)
        items: list[Mapping[str, Any]] = [
            {"id": i.get("id"), "name": i.get("name")} for i in parse_search_items(response.json())
        ]
        if not items:
            raise UnresolvedReference("cedant" if what == "cedants" else "line of business",
                                      "(any)", scope=f"EDM {database!r}")
        return items
