"""Shard leases: which of the 64 job shards this process may work on.

Every ``ttl / 3`` seconds the keeper heart-beats, renews the leases it holds, and claims or
releases shards so that live workers share them evenly. A lease counts locally only until
``ttl`` (minus a margin) after the last successful renewal: during a database outage the
process stops acting on its shards before another process may take them over.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable

import structlog

from irpd.db.database import DatabaseUnavailable
from irpd.db.engine_store import EngineStore
from irpd.engine.health import DatabaseHealth

SHARDS = 64
log = structlog.get_logger("irpd.leases")


class LeaseKeeper:
    """Holds, renews and rebalances this worker's shard leases."""

    def __init__(
        self,
        store: EngineStore,
        health: DatabaseHealth,
        *,
        ttl: float,
        hostname: str,
        pid: int,
        version: str,
        on_change: Callable[[frozenset[int], frozenset[int]], None] | None = None,
    ) -> None:
        self._store = store
        self._health = health
        self.ttl = ttl
        self._identity = (hostname, pid, version)
        self._on_change = on_change
        self._owned: frozenset[int] = frozenset()
        self._valid_until = 0.0
        self.changed = asyncio.Event()

    def usable(self) -> frozenset[int]:
        """Shards this process may act on right now (empty once the leases may have lapsed)."""
        return self._owned if time.monotonic() < self._valid_until else frozenset()

    async def run(self) -> None:
        """Keep leases forever (a supervised task)."""
        while True:
            await self.tick_safely()
            await asyncio.sleep(self.ttl / 3)

    async def tick_safely(self) -> None:
        """One renewal round; a database outage is recorded, not raised."""
        try:
            await self.tick()
        except DatabaseUnavailable:
            return  # the database observer records the outage; try again next round

    async def tick(self) -> None:
        """Heartbeat, renew, then claim or release towards an even share."""
        started = time.monotonic()
        await self._store.heartbeat(*self._identity)
        held = await self._store.renew(self.ttl)
        live = max(1, await self._store.live_workers(self.ttl))
        target = math.ceil(SHARDS / live)
        if len(held) < target:
            held |= await self._store.claim(self.ttl, target - len(held))
        elif len(held) > target:
            surplus = sorted(held)[target:]
            self._set(frozenset(held - set(surplus)), started)
            await self._store.release(surplus)
            held -= set(surplus)
            log.info("shards_released", count=len(surplus), live_workers=live)
        self._set(frozenset(held), started)

    def _set(self, owned: frozenset[int], started: float) -> None:
        self._valid_until = started + self.ttl * 0.8
        if owned != self._owned:
            gained, lost = owned - self._owned, self._owned - owned
            self._owned = owned
            log.info("shards_changed", owned=len(owned), gained=len(gained), lost=len(lost))
            if self._on_change is not None:
                self._on_change(gained, lost)
            self.changed.set()

    async def release_all(self) -> None:
        """Give every shard back and mark this worker stopped (graceful shutdown)."""
        self._owned = frozenset()
        self._valid_until = 0.0
        try:
            await self._store.stop_worker()
        except DatabaseUnavailable as exc:
            log.warning("shards_not_released", error=str(exc))
