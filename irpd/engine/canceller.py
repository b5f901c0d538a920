"""The canceller: sends Moody's the cancels operators asked for (CANCEL_REQUESTED jobs).

Accepted → CANCELLING, then the tracker follows the workflow to CANCELLED (or to FINISHED /
FAILED if the cancel raced the end). ``WORKFLOW-515`` (already terminal) → the job is polled
at once so its real terminal status is applied. Other failures are retried with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from irpd.db.database import DatabaseUnavailable
from irpd.db.engine_store import EngineStore
from irpd.db.moves import cancels_sent
from irpd.engine.events import TransitionEvents
from irpd.engine.health import DatabaseHealth
from irpd.engine.leases import LeaseKeeper
from irpd.engine.ports import MoodysGateway
from irpd.errors import PermanentError, RetryableError, clip
from irpd.moodys.errors import NotCancellable
from statemachines.job import JOB_LIFECYCLE, JobStatus

log = structlog.get_logger("irpd.canceller")


@dataclass(frozen=True, slots=True, kw_only=True)
class CancellerSettings:
    """Canceller settings: ``first_poll_in`` comes from ``engine.poll_min_interval`` (mapped in
    :mod:`irpd.engine.settings`); the rest are internals."""

    idle_interval: float = 1.0
    batch_size: int = 100
    first_poll_in: float
    retry_in: float = 30.0


class Canceller:
    """Sends pending cancels for the owned shards."""

    def __init__(
        self,
        store: EngineStore,
        moodys: MoodysGateway,
        leases: LeaseKeeper,
        health: DatabaseHealth,
        events: TransitionEvents,
        settings: CancellerSettings,
        *,
        on_cancel_sent: Callable[[int, int, str, str], None],
        on_not_cancellable: Callable[[int], None],
    ) -> None:
        self._store = store
        self._moodys = moodys
        self._leases = leases
        self._health = health
        self._events = events
        self.settings = settings
        self._on_cancel_sent = on_cancel_sent
        self._on_not_cancellable = on_not_cancellable
        self._wake = asyncio.Event()
        self._retrying: set[int] = set()

    def wake(self) -> None:
        """A cancel was requested: look now."""
        self._wake.set()

    async def run(self) -> None:
        """Send cancels forever (a supervised task)."""
        while True:
            try:
                sent = await self._round()
            except DatabaseUnavailable:
                sent = 0
            if not sent:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.idle_interval)

    async def _round(self) -> int:
        shards = sorted(self._leases.usable())
        if not shards:
            return 0
        todo = await self._store.cancels_to_send(shards, [], self.settings.batch_size)
        results = await asyncio.gather(*(self._cancel(*item) for item in todo))
        return sum(results)

    async def _cancel(self, job_id: int, batch_id: int, workflow_id: str) -> int:
        bound = log.bind(job_id=job_id, batch_id=batch_id, workflow_id=workflow_id)
        try:
            await self._moodys.cancel(workflow_id)
        except NotCancellable as exc:
            bound.info("cancel_not_possible", moodys_status=exc.current_status)
            await self._store.cancel_retry(job_id, f"not cancellable: {exc}", 0.0)
            self._on_not_cancellable(job_id)
            return 0
        except (RetryableError, PermanentError) as exc:
            bound.warning("cancel_failed", error=str(exc))
            await self._store.cancel_retry(job_id, clip(str(exc)), self.settings.retry_in)
            return 0
        move = JOB_LIFECYCLE.move(job_id, JobStatus.CANCEL_REQUESTED, "cancel_sent")
        moved = await self._store.apply_moves([move], cancels_sent([self.settings.first_poll_in]))
        for row in moved:
            self._events.transitioned(
                row.id,
                row.batch_id,
                row.previous,
                row.status,
                workflow_id=workflow_id,
                cause="engine",
            )
            self._on_cancel_sent(row.id, row.batch_id, row.status, workflow_id)
        return 1
