"""Pre-flight: the Moody's references a batch's jobs need, checked before anything is sent.

Each job configuration names things that must already exist at Moody's when its workflow is
submitted: the portfolio an import, geohaz or analysis runs on; an analysis's model and output
profiles, event rate scheme and treaties; the analyses and groups a grouping or an RDM export
reads. :func:`references_of` lists them (pure); :class:`ReferenceChecker` looks every distinct
one up once (reference data through the client's cache, exposures by name), a bounded number
at a time, and says per job what is missing, in words that name the missing thing.

Only a definite "not found" counts as missing: when Moody's cannot answer (outage, 5xx), the
error propagates and nothing is decided; a lookup Moody's refuses otherwise is logged and left
to the submission. A missing EDM shows as the portfolio not found in that EDM.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import structlog

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import (
    InvalidJobConfiguration,
    MoodysPermanentError,
    UnresolvedReference,
)
from irpd.moodys.operations import names, optional_text

_log = structlog.get_logger(__name__)

#: lookups in flight at once during a pre-flight check
LOOKUP_CONCURRENCY: Final = 8
#: batch types whose jobs run on an existing portfolio
_ON_PORTFOLIO: Final = frozenset({"mri_import", "geohaz", "analysis"})


@dataclass(frozen=True, slots=True)
class Reference:
    """One thing a job needs at Moody's: ``kind`` (words), ``name``, and the EDM it lives in."""

    kind: str
    name: str
    edm: str | None = None

    def describe(self) -> str:
        where = f" in EDM {self.edm!r}" if self.edm else ""
        return f"{self.kind} {self.name!r}{where} not found at Moody's"


def references_of(config: Mapping[str, Any]) -> list[Reference]:
    """What must already exist at Moody's for this job configuration (pure; may be empty)."""
    batch_type = config.get("batch_type")
    database = optional_text(config, "database")
    found: list[Reference] = []
    if batch_type in _ON_PORTFOLIO and database:
        portfolio = optional_text(config, "portfolio")
        if portfolio:
            found.append(Reference("portfolio", portfolio, database))
    if batch_type == "analysis":
        for key, kind in (("analysis_profile", "model profile"), ("output_profile",
                                                                 "output profile")):
            value = optional_text(config, key)
            if value:
                found.append(Reference(kind, value))
        event_rate = optional_text(config, "event_rate")
        if event_rate:
            found.append(Reference("event rate scheme", event_rate))
        if database:
            found += [Reference("treaty", t, database) for t in names(config, "treaties")]
    elif batch_type in ("grouping", "grouping_rollup"):
        found += [Reference("analysis or group", item) for item in names(config, "items")]
    elif batch_type == "export_to_rdm":
        name = optional_text(config, "name")
        if name:
            found.append(Reference("analysis or group", name))
    return found


class ReferenceChecker:
    """Checks references against Moody's through one client (see the module docstring)."""

    def __init__(self, client: MoodysClient, concurrency: int = LOOKUP_CONCURRENCY) -> None:
        self._client = client
        self._limit = asyncio.Semaphore(concurrency)

    async def missing(
        self, jobs: Sequence[tuple[int, Mapping[str, Any]]]
    ) -> dict[int, list[str]]:
        """Job id → what it needs that Moody's does not have (jobs with nothing missing are
        left out). Each distinct reference is looked up once."""
        wanted = {job_id: references_of(config) for job_id, config in jobs}
        distinct = {ref for refs in wanted.values() for ref in refs}
        absent: set[Reference] = set()

        async def check(ref: Reference) -> None:
            async with self._limit:
                if not await self._exists(ref):
                    absent.add(ref)

        await asyncio.gather(*(check(ref) for ref in distinct))
        result: dict[int, list[str]] = {}
        for job_id, refs in wanted.items():
            gone = [ref.describe() for ref in refs if ref in absent]
            if gone:
                result[job_id] = gone
        return result

    async def _exists(self, ref: Reference) -> bool:
        lookups = self._client.lookups
        finders: dict[str, Callable[[], Awaitable[Any]]] = {
            "portfolio": lambda: lookups.portfolio_id(str(ref.edm), ref.name),
            "treaty": lambda: lookups.treaty_id(str(ref.edm), ref.name),
            "analysis or group": lambda: lookups.result_id(ref.name),
            "model profile": lambda: self._client.model_profile(ref.name),
            "output profile": lambda: self._client.output_profile_id(ref.name),
            "event rate scheme": lambda: self._client.event_rate_scheme_id(ref.name),
        }
        try:
            await finders[ref.kind]()
        except (UnresolvedReference, InvalidJobConfiguration):
            return False
        except MoodysPermanentError as odd:  # could not check: leave it to the submission
            _log.warning("preflight_lookup_failed", what=ref.kind, name=ref.name, error=str(odd))
        return True
