"""Name → id lookups of exposures and results (portfolios, treaties, analyses, groups).

Not cached: these entities are created during a cycle. When several results share a name
(the same analysis name in two EDMs) the newest (highest id) wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog

from irpd.moodys import operations
from irpd.moodys.errors import UnresolvedReference
from irpd.moodys.refdata import as_id, same_name
from irpd.moodys.responses import parse_search_items
from irpd.moodys.transport import Transport

_log = structlog.get_logger(__name__)


class Lookups:
    """Searches that turn the names of a job configuration into Moody's ids."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def _search(self, spec: operations.RequestSpec) -> list[Mapping[str, Any]]:
        response = await self._transport.request(spec.method, spec.path, params=spec.params)
        return parse_search_items(response.json())

    async def _unique_id(
        self, spec: operations.RequestSpec, what: str, name: str, scope: str | None
    ) -> int:
        items = [item for item in await self._search(spec) if same_name(item.get("name"), name)]
        if not items:
            raise UnresolvedReference(what, name, scope=scope)
        ids = sorted(as_id(item.get("id"), what, name) for item in items)
        if len(ids) > 1:
            _log.warning("moodys_ambiguous_name", what=what, name=name, ids=ids[:10])
        return ids[-1]

    async def portfolio_id(self, database: str, portfolio: str) -> int:
        """The id of portfolio ``portfolio`` in EDM ``database``."""
        spec = operations.portfolio_search(database, portfolio)
        return await self._unique_id(spec, "portfolio", portfolio, f"EDM {database!r}")

    async def treaty_id(self, database: str, treaty: str) -> int:
        """The id of treaty ``treaty`` in EDM ``database``."""
        spec = operations.treaty_search(database, treaty)
        return await self._unique_id(spec, "treaty", treaty, f"EDM {database!r}")

    async def result_id(self, name: str) -> int:
        """The id of the analysis or analysis group called ``name``."""
        spec = operations.result_search(name)
        return await self._unique_id(spec, "analysis or group", name, None)
