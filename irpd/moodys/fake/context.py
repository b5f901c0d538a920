"""The fake server's state, shared by its middlewares and routes through the app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from irpd.moodys.fake.catalogue import Catalogue
from irpd.moodys.fake.clock import SimClock, iso
from irpd.moodys.fake.faults import FaultEngine
from irpd.moodys.fake.idempotency import IdempotencyStore
from irpd.moodys.fake.ledger import Ledger, RequestLog
from irpd.moodys.fake.registry import Registry
from irpd.moodys.fake.settings import FakeSettings
from irpd.moodys.fake.simulation import Simulation

#: seconds after a 429 is sent during which arrivals are not counted as ignoring it
#: (requests already in flight when the client read the 429)
RETRY_AFTER_GRACE = 0.05


@dataclass(eq=False)
class FakeContext:
    """Everything a request handler may touch."""

    settings: FakeSettings
    clock: SimClock
    simulation: Simulation
    registry: Registry
    catalogue: Catalogue
    ledger: Ledger
    requests: RequestLog
    idempotency: IdempotencyStore
    faults: FaultEngine
    shutdown: asyncio.Event = field(default_factory=asyncio.Event)

    def sim_iso(self) -> str:
        """Simulated now, formatted."""
        return iso(self.clock.now())

    def base_url(self, request: web.BaseRequest) -> str:
        """Scheme and authority for absolute ``Location`` URLs."""
        if self.settings.public_base_url:
            return self.settings.public_base_url.rstrip("/")
        return f"{request.scheme}://{request.host}"


CONTEXT = web.AppKey("fake_moodys_context", FakeContext)


def context_of(request: web.Request) -> FakeContext:
    """The context of the app serving *request*."""
    return request.app[CONTEXT]
