"""The engine: leases, dispatcher, tracker, canceller and reconciler wired together.

It is built by the composition root (:mod:`irpd.app`), started under its supervisor, and told
about operator commands through :meth:`Engine.work_queued`, :meth:`Engine.cancel_requested`
and :meth:`Engine.batch_changed`.
"""

from __future__ import annotations

import gc
import os
import random
import socket
from collections.abc import Sequence
from typing import Any

import structlog

import irpd
from irpd.config import EngineConfig
from irpd.db.engine_store import Acknowledged, EngineStore, Moved
from irpd.engine.canceller import Canceller, CancellerSettings
from irpd.engine.dispatcher import Dispatcher, DispatcherSettings
from irpd.engine.events import TransitionEvents
from irpd.engine.health import DatabaseHealth, GcPauses, LoopLagMonitor
from irpd.engine.leases import LeaseKeeper
from irpd.engine.ports import MoodysGateway
from irpd.engine.reconciler import ReconcileBatch, Reconciler
from irpd.engine.supervisor import Supervisor
from irpd.engine.tracker import Tracker, TrackerSettings
from irpd.moodys.circuit import MoodysHealthState
from statemachines.job import CANCEL_PENDING_JOB_STATUSES
from statemachines.polling import PollPolicy

log = structlog.get_logger("irpd.engine")


def poll_policy(config: EngineConfig) -> PollPolicy:
    """The tracker's poll policy from ``[engine]``."""
    return PollPolicy(
        min_interval=config.poll_min_interval,
        max_interval=config.poll_max_interval,
        growth=config.poll_growth,
        jitter=config.poll_jitter,
    )


class Engine:
    """Everything that carries the state machines' decisions out."""

    def __init__(
        self,
        store: EngineStore,
        moodys: MoodysGateway,
        config: EngineConfig,
        *,
        reconcile: ReconcileBatch,
        submit_concurrency: int = 8,
        status_batch_size: int = 100,
        rng: random.Random | None = None,
        log_interval: float = 10.0,
        moodys_health: MoodysHealthState | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self.health = DatabaseHealth()
        store.db.observe(self.health.record)
        self.loop_lag = LoopLagMonitor()
        self.gc_pauses = GcPauses()
        gc.callbacks.append(self.gc_pauses)
        self.events = TransitionEvents(interval=log_interval)
        rng = rng or random.Random()
        self.leases = LeaseKeeper(
            store,
            self.health,
            ttl=config.lease_ttl,
            hostname=socket.gethostname(),
            pid=os.getpid(),
            version=irpd.__version__,
            on_change=self._shards_changed,
        )
        self.reconciler = Reconciler(
            reconcile,
            self.health,
            debounce=config.reconcile_debounce,
            list_active=store.batches_to_reconcile,
        )
        self.tracker = Tracker(
            store,
            moodys,
            self.leases,
            self.health,
            self.events,
            TrackerSettings(
                policy=poll_policy(config),
                tick=config.tracker_tick,
                max_due=config.tracker_max_due,
                recovery_spread=config.recovery_spread,
                recovery_rate=config.recovery_rate,
                max_polls_per_second=config.max_polls_per_second,
                operator_yield=config.operator_yield,
                ids_per_request=status_batch_size,
                db_retry_max=config.db_retry_max_interval,
                lost_workflow_after=config.lost_workflow_after,
            ),
            on_settled=self._settled,
            rng=rng,
        )
        self.dispatcher = Dispatcher(
            store,
            moodys,
            self.leases,
            self.health,
            self.events,
            DispatcherSettings(
                batch_size=max(config.dispatch_batch_size, submit_concurrency),
                concurrency=submit_concurrency,
                idle_interval=config.dispatch_idle_interval,
                first_poll_in=config.poll_min_interval,
                db_retry_max=config.db_retry_max_interval,
            ),
            on_acknowledged=self._acknowledged,
            on_settled=self._settled,
            rng=rng,
            moodys_room=moodys_health.room if moodys_health is not None else lambda: None,
        )
        if moodys_health is not None:  # Moody's is back: resume submitting at once
            moodys_health.on_close.append(self.dispatcher.wake)
        self.canceller = Canceller(
            store,
            moodys,
            self.leases,
            self.health,
            self.events,
            CancellerSettings(first_poll_in=config.poll_min_interval),
            on_cancel_sent=self._cancel_sent,
            on_not_cancellable=self.tracker.poll_soon,
        )

    # --- wiring callbacks ---------------------------------------------------------------
    def _acknowledged(self, rows: Sequence[Acknowledged]) -> None:
        for row in rows:
            self.tracker.add(row.id, row.batch_id, row.status, row.workflow_id)
            if row.status in CANCEL_PENDING_JOB_STATUSES:
                self.canceller.wake()

    def _settled(self, rows: Sequence[Moved]) -> None:
        self.reconciler.notify({row.batch_id for row in rows})

    def _cancel_sent(self, job_id: int, batch_id: int, status: str, workflow_id: str) -> None:
        self.tracker.add(job_id, batch_id, status, workflow_id)

    def _shards_changed(self, gained: frozenset[int], lost: frozenset[int]) -> None:
        self.tracker.resync_soon()
        if gained:
            self.dispatcher.wake()
            self.canceller.wake()

    # --- operator commands ------------------------------------------------------------
    def work_queued(self) -> None:
        """Jobs were queued for submission."""
        self.dispatcher.wake()

    def cancel_requested(self) -> None:
        """A cancel was requested (the tracker re-reads the job on its next poll)."""
        self.canceller.wake()
        self.tracker.resync_soon()

    def batch_changed(self, batch_ids: Sequence[int]) -> None:
        """An operator command may have changed these batches' outcomes."""
        self.reconciler.notify(batch_ids)

    def retry_database_now(self) -> None:
        """SIGHUP: new connections, degradations forgotten, and every write that waits for
        the database retried at once."""
        self.store.db.reconnect()
        self.health.retry_now()
        self.tracker.resync_soon()
        self.dispatcher.wake()
        self.canceller.wake()

    # --- lifecycle ---------------------------------------------------------------------
    async def start(self, supervisor: Supervisor) -> None:
        """Take leases once (so work starts at once), then start every task."""
        await self.leases.tick_safely()
        supervisor.start("loop_lag", self.loop_lag.run())
        supervisor.start("leases", self.leases.run())
        supervisor.start("tracker", self.tracker.run())
        supervisor.start("dispatcher", self.dispatcher.run())
        supervisor.start("dispatch_writer", self.dispatcher.write_outcomes())
        supervisor.start("canceller", self.canceller.run())
        supervisor.start("reconciler", self.reconciler.run())

    async def drain(self, timeout: float) -> None:
        """Stop taking new work and let in-flight submissions finish (bounded)."""
        await self.dispatcher.drain(timeout)
        self.events.flush()

    async def release(self) -> None:
        """Give the shards back so another process can take over at once."""
        if self.gc_pauses in gc.callbacks:
            gc.callbacks.remove(self.gc_pauses)
        await self.leases.release_all()

    def snapshot(self) -> dict[str, Any]:
        """Engine state for ``irpctl status`` and the periodic stats event."""
        return {
            "shards_owned": len(self.leases.usable()),
            "tracked_jobs": len(self.tracker.schedule),
            "dispatch_in_flight": self.dispatcher.in_flight,
            "submitted": self.dispatcher.submitted,
            "polled": self.tracker.polled,
            "sweeps": self.tracker.sweeps,
            "reconciled": self.reconciler.reconciled,
            "transitions": dict(self.events.total),
            "database": self.health.snapshot(),
            "moodys": self.tracker.moodys_health.snapshot(),
            "event_loop_lag": self.loop_lag.percentiles(),
            "gc": self.gc_pauses.snapshot(),
        }
