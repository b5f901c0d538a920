"""Reference data (spec §9): model profiles, output profiles, event rate schemes by name.

Lookups are cached per client for ``reference_cache_ttl`` seconds (bounded size); concurrent
lookups of one name share one request. A name Moody's does not know raises
:class:`UnresolvedReference` (permanent: the job becomes ERROR with the name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from irpd.moodys.cache import AsyncTtlCache
from irpd.moodys.errors import UnresolvedReference
from irpd.moodys.responses import parse_search_items
from irpd.moodys.transport import Transport

MODEL_PROFILES = "/analysis-settings/modelprofiles"
OUTPUT_PROFILES = "/analysis-settings/outputprofiles"
EVENT_RATE_SCHEMES = "/data-store/referencetables/eventratescheme"


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """A model (analysis) profile; an ``HD`` software version makes an HD analysis."""

    id: int
    name: str
    peril_code: str | None
    model_region_code: str | None
    software_version_code: str | None

    @property
    def is_hd(self) -> bool:
        """Whether the profile runs the HD engine (otherwise DLM)."""
        return "HD" in (self.software_version_code or "").upper()


def same_name(candidate: object, wanted: str) -> bool:
    """Names match when equal after trimming, case-insensitively."""
    return isinstance(candidate, str) and candidate.strip().casefold() == wanted.strip().casefold()


def pick_by_name(
    items: list[Mapping[str, Any]], wanted: str, *, key: str = "name"
) -> Mapping[str, Any] | None:
    """The item named ``wanted`` (exact match), else ``None``."""
    return next((item for item in items if same_name(item.get(key), wanted)), None)


def as_id(value: object, what: str, name: str) -> int:
    """An integer id from a JSON value, or :class:`UnresolvedReference` when unusable."""
    if isinstance(value, bool):
        raise UnresolvedReference(what, name)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise UnresolvedReference(what, name)


def _quoted(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


class ReferenceData:
    """Cached name → id resolution of analysis settings."""

    def __init__(self, transport: Transport) -> None:
        settings = transport.settings
        self._transport = transport
        ttl, size = settings.reference_cache_ttl, settings.reference_cache_size
        self._profiles: AsyncTtlCache[str, ModelProfile] = AsyncTtlCache(ttl=ttl, max_size=size)
        self._outputs: AsyncTtlCache[str, int] = AsyncTtlCache(ttl=ttl, max_size=size)
        self._schemes: AsyncTtlCache[tuple[str, str | None, str | None], int] = AsyncTtlCache(
            ttl=ttl, max_size=size
        )

    def clear(self) -> None:
        """Forget every cached lookup."""
        self._profiles.clear()
        self._outputs.clear()
        self._schemes.clear()

    async def model_profile(self, name: str) -> ModelProfile:
        """The model profile called ``name``."""

        async def load() -> ModelProfile:
            response = await self._transport.request("GET", MODEL_PROFILES, params={"name": name})
            item = pick_by_name(parse_search_items(response.json()), name)
            if item is None:
                raise UnresolvedReference("model profile", name)
            return ModelProfile(
                id=as_id(item.get("id"), "model profile", name),
                name=str(item.get("name")),
                peril_code=_opt(item.get("perilCode")),
                model_region_code=_opt(item.get("modelRegionCode")),
                software_version_code=_opt(item.get("softwareVersionCode")),
            )

        return await self._profiles.get_or_load(name.strip(), load)

    async def output_profile_id(self, name: str) -> int:
        """The id of the output profile called ``name``."""

        async def load() -> int:
            response = await self._transport.request("GET", OUTPUT_PROFILES, params={"name": name})
            item = pick_by_name(parse_search_items(response.json()), name)
            if item is None:
                raise UnresolvedReference("output profile", name)
            return as_id(item.get("id"), "output profile", name)

        return await self._outputs.get_or_load(name.strip(), load)

    async def event_rate_scheme_id(
        self, name: str, *, peril_code: str | None = None, model_region_code: str | None = None
    ) -> int:
        """The id of the active event rate scheme ``name`` (for a peril and region if given)."""
        clauses = ["isActive=True", f'name="{_quoted(name)}"']
        if peril_code:
            clauses.append(f'perilCode="{_quoted(peril_code)}"')
        if model_region_code:
            clauses.append(f'modelRegionCode="{_quoted(model_region_code)}"')
        where = " AND ".join(clauses)

        async def load() -> int:
            response = await self._transport.request(
                "GET", EVENT_RATE_SCHEMES, params={"where": where}
            )
            item = pick_by_name(parse_search_items(response.json()), name)
            if item is None:
                raise UnresolvedReference("event rate scheme", name)
            return as_id(item.get("eventRateSchemeId"), "event rate scheme", name)

        key = (name.strip(), peril_code, model_region_code)
        return await self._schemes.get_or_load(key, load)


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
