"""What exists in the fake tenant besides workflows: EDMs, RDMs, portfolios, storage
buckets, and the name lookups (portfolios, treaties, analyses and groups).

Lookups are lenient by default: a name the fake has never seen resolves to a synthetic id
that is a stable hash of (kind, scope, name), so a batch type can be exercised on its own.
With ``strict`` they find only real entries.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from irpd.moodys.fake.catalogue import Catalogue
from irpd.moodys.fake.simulation import ANALYSIS_TYPES, GROUP_TYPES, Simulation
from irpd.moodys.fake.timeline import CANCELLED, FAILED, FINISHED, WorkflowRecord


@dataclass(frozen=True, slots=True)
class Portfolio:
    """A portfolio created through the create-portfolio endpoint."""

    id: int
    datasource: str
    name: str
    number: str
    description: str

    def as_item(self) -> dict[str, object]:
        """Search-result item."""
        return {
            "id": self.id,
            "name": self.name,
            "number": self.number,
            "description": self.description,
            "datasource": self.datasource,
        }


def synthetic_id(kind: str, scope: str, name: str) -> int:
    """A stable id in 100,000,000..999,999,999 for a name the fake has not seen."""
    digest = hashlib.blake2b(f"{kind}|{scope}|{name}".encode(), digest_size=8).digest()
    return 100_000_000 + int.from_bytes(digest, "big") % 900_000_000


class Registry:
    """Non-workflow state and name resolution."""

    def __init__(self, simulation: Simulation, catalogue: Catalogue, strict: bool) -> None:
        self._simulation = simulation
        self._catalogue = catalogue
        self.strict = strict
        self._edm_creates: dict[str, list[WorkflowRecord]] = {}
        self._rdm_creates: dict[str, list[WorkflowRecord]] = {}
        self._portfolios: dict[tuple[str, str], Portfolio] = {}
        self._portfolios_by_id: dict[int, Portfolio] = {}
        self._next_portfolio_id = 1
        self._treaties: dict[tuple[str, str], dict[str, object]] = {}
        self._treaty_lobs: dict[int, set[str]] = {}
        self._next_treaty_id = 7001
        self._buckets: dict[int, list[int]] = {}
        self._next_bucket_id = 5001
        self._next_file_id = 90001

    # -- databases ----------------------------------------------------------------------

    def record_edm_create(self, name: str, record: WorkflowRecord) -> None:
        """Remember a CREATE_EDM workflow for duplicate checks and lookups."""
        self._edm_creates.setdefault(name.lower(), []).append(record)

    def record_rdm_create(self, name: str, record: WorkflowRecord) -> None:
        """Remember an export that creates a new RDM."""
        self._rdm_creates.setdefault(name.lower(), []).append(record)

    def edm_state(self, name: str, now: float) -> str:
        """``absent``, ``creating`` or ``exists`` (failed/cancelled creates do not count)."""
        return _database_state(self._edm_creates.get(name.lower(), []), now)

    def rdm_state(self, name: str, now: float) -> str:
        """``absent``, ``creating`` or ``exists`` for an RDM."""
        return _database_state(self._rdm_creates.get(name.lower(), []), now)

    def datasources(self, now: float) -> list[dict[str, object]]:
        """EDMs whose creation finished (the ``/v2/datasources`` search)."""
        items = []
        for creates in self._edm_creates.values():
            for record in creates:
                if record.status_at(now) == FINISHED:
                    items.append(
                        {"datasourceName": record.name, "type": "EDM", "workflowId": record.id}
                    )
        return items

    # -- portfolios ---------------------------------------------------------------------

    def find_portfolio(self, datasource: str, name: str) -> Portfolio | None:
        """A real portfolio by EDM and name."""
        return self._portfolios.get((datasource, name))

    def portfolio_by_id(self, portfolio_id: int) -> Portfolio | None:
        """A real portfolio by id."""
        return self._portfolios_by_id.get(portfolio_id)

    def create_portfolio(
        self, datasource: str, name: str, number: str, description: str
    ) -> Portfolio:
        """Create a portfolio (the caller has checked the name is free)."""
        portfolio = Portfolio(self._next_portfolio_id, datasource, name, number, description)
        self._next_portfolio_id += 1
        self._portfolios[(datasource, name)] = portfolio
        self._portfolios_by_id[portfolio.id] = portfolio
        return portfolio

    def portfolios(self, datasource: str) -> list[Portfolio]:
        """Real portfolios of one EDM."""
        return [p for (edm, _), p in self._portfolios.items() if edm == datasource]

    def lookup_portfolios(self, datasource: str, name: str) -> list[dict[str, object]]:
        """Name lookup with the lenient fallback."""
        found = self.find_portfolio(datasource, name)
        if found is not None:
            return [found.as_item()]
        if self.strict:
            return []
        pid = synthetic_id("portfolio", datasource, name)
        return [
            {
                "id": pid,
                "name": name,
                "number": name,
                "description": "",
                "datasource": datasource,
                "synthetic": True,
            }
        ]

    # -- treaties -----------------------------------------------------------------------

    def find_treaty(self, datasource: str, name: str) -> dict[str, object] | None:
        """A treaty created through the create-treaty endpoint."""
        return self._treaties.get((datasource, name))

    def create_treaty(self, datasource: str, name: str, body: dict[str, object]) -> int:
        """Create a treaty (the caller has checked the name is free); returns its id."""
        treaty_id = self._next_treaty_id
        self._next_treaty_id += 1
        self._treaties[(datasource, name)] = {"id": treaty_id, "name": name, **body}
        self._treaty_lobs[treaty_id] = set()
        return treaty_id

    def assign_treaty_lob(self, treaty_id: int, lob: str) -> bool:
        """Assign a line of business to a created treaty; False when there is no such treaty."""
        if treaty_id not in self._treaty_lobs:
            return False
        self._treaty_lobs[treaty_id].add(lob)
        return True

    def treaty_lobs(self, treaty_id: int) -> set[str]:
        """The lines of business assigned to a created treaty."""
        return set(self._treaty_lobs.get(treaty_id, set()))

    def lookup_treaties(self, datasource: str, name: str) -> list[dict[str, object]]:
        """Created, then seeded treaties by name, with the lenient fallback."""
        made = self.find_treaty(datasource, name)
        if made is not None:
            return [{"id": made["id"], "name": name}]
        seeded = self._catalogue.treaties_named(datasource, name)
        if seeded:
            return [{"id": t.id, "name": t.name} for t in seeded]
        if self.strict:
            return []
        return [{"id": synthetic_id("treaty", datasource, name), "name": name, "synthetic": True}]

    # -- results ------------------------------------------------------------------------

    def lookup_results(self, name: str, now: float) -> list[dict[str, object]]:
        """Analyses and groups produced by FINISHED workflows of that name (newest first),
        with the lenient fallback to a synthetic ANALYSIS."""
        items: list[dict[str, object]] = []
        for record in reversed(self._simulation.named(name)):
            if record.result_id is None or record.status_at(now) != FINISHED:
                continue
            kind = "GROUP" if record.type in GROUP_TYPES else "ANALYSIS"
            if record.type in ANALYSIS_TYPES or record.type in GROUP_TYPES:
                items.append(
                    {"id": record.result_id, "name": name, "type": kind, "workflowId": record.id}
                )
        if items or self.strict:
            return items
        return [
            {
                "id": synthetic_id("analysis", "", name),
                "name": name,
                "type": "ANALYSIS",
                "synthetic": True,
            }
        ]

    # -- storage ------------------------------------------------------------------------

    def new_bucket(self) -> int:
        """Create a storage bucket."""
        bucket = self._next_bucket_id
        self._next_bucket_id += 1
        self._buckets[bucket] = []
        return bucket

    def has_bucket(self, bucket: int) -> bool:
        """Whether the bucket exists."""
        return bucket in self._buckets

    def new_file(self, bucket: int) -> int:
        """Register a file in a bucket."""
        file_id = self._next_file_id
        self._next_file_id += 1
        self._buckets[bucket].append(file_id)
        return file_id


def _database_state(creates: list[WorkflowRecord], now: float) -> str:
    state = "absent"
    for record in creates:
        status = record.status_at(now)
        if status == FINISHED:
            return "exists"
        if status not in (FAILED, CANCELLED):
            state = "creating"
    return state
