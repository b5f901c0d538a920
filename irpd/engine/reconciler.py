"""The reconciler: reconciles a batch whenever one of its jobs settles.

Batch ids arrive from the dispatcher, tracker and operator commands; repeated notifications
for one batch are coalesced, and a batch is reconciled at most once per ``debounce`` seconds
(longer for batches whose reconciliation is slow), so a batch of 100,000 jobs settling at once
costs a handful of reconciliations, not 100,000.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import structlog

from irpd.db.database import DatabaseUnavailable
from irpd.engine.health import DatabaseHealth
from irpd.errors import DomainError, StaleStateError

log = structlog.get_logger("irpd.reconciler")

#: reconciles one batch; returns at least ``status`` and ``previous_status`` (and ``summary``)
ReconcileBatch = Callable[[int], Awaitable[Mapping[str, Any]]]


class Reconciler:
    """Coalescing queue of batches to reconcile."""

    def __init__(
        self,
        reconcile: ReconcileBatch,
        health: DatabaseHealth,
        *,
        debounce: float = 0.5,
        list_active: Callable[[], Awaitable[list[int]]] | None = None,
    ) -> None:
        self._reconcile = reconcile
        self._health = health
        self.debounce = debounce
        self._list_active = list_active
        self._pending: set[int] = set()
        self._wake = asyncio.Event()
        self._cost: dict[int, float] = {}
        self.reconciled = 0

    def notify(self, batch_ids: Iterable[int]) -> None:
        """These batches may have a new outcome."""
        before = len(self._pending)
        self._pending.update(batch_ids)
        if len(self._pending) != before:
            self._wake.set()

    async def run(self) -> None:
        """Reconcile forever (a supervised task); starts by catching up on active batches."""
        if self._list_active is not None:
            await self._catch_up()
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(self.debounce)
            batch_ids, self._pending = sorted(self._pending), set()
            for batch_id in batch_ids:
                await self._one(batch_id)

    async def _catch_up(self) -> None:
        assert self._list_active is not None
        while True:
            try:
                self.notify(await self._list_active())
                return
            except DatabaseUnavailable:
                await self._health.backoff(1.0)

    async def _one(self, batch_id: int) -> None:
        started = time.monotonic()
        try:
            result = await self._reconcile(batch_id)
        except DatabaseUnavailable:
            self.notify([batch_id])
            await self._health.backoff(1.0)
            return
        except StaleStateError:
            self.notify([batch_id])  # the batch moved meanwhile: look again
            return
        except DomainError as exc:
            log.warning("batch_reconcile_refused", batch_id=batch_id, error=str(exc))
            return
        cost = time.monotonic() - started
        retry_in = result.get("retry_in")
        if isinstance(retry_in, (int, float)) and retry_in > 0:
            # the reconciliation put work off (a large batch's summary refresh): come back
            asyncio.get_running_loop().call_later(retry_in, self.notify, [batch_id])
        self.reconciled += 1
        if result.get("status") != result.get("previous_status"):
            summary = result.get("summary") or {}
            log.info(
                "batch_reconciled",
                batch_id=batch_id,
                **{"from": result.get("previous_status"), "to": result.get("status")},
                fulfilled_configs=summary.get("fulfilled_configs"),
                total_configs=summary.get("total_configs"),
                job_status_counts=summary.get("job_status_counts"),
                seconds=round(cost, 3),
            )
        if cost > self.debounce:
            await asyncio.sleep(min(cost, 5.0))
