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
from irpd.engine.canceller import Canceller
from irpd.engine.dispatcher import Dispatcher
from irpd.engine.events import TransitionEvents
from irpd.engine.health import DatabaseHealth, GcPauses, LoopLagMonitor
from irpd.engine.leases import LeaseKeeper
from irpd.engine.ports import MoodysCircuit, MoodysGateway
from irpd.engine.reconciler import ReconcileBatch, Reconciler
from irpd.engine.settings import EngineSettings, engine_settings
from irpd.engine.supervisor import Supervisor
from irpd.engine.tracker import Tracker
from statemachines.job import CANCEL_PENDING_JOB_STATUSES

log = structlog.get_logger("irpd.engine")


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
        moodys_health: MoodysCircuit | None = None,
    ) -> None:
        self.store = store
        self.config = config
        self._fixed = {
            "submit_concurrency": submit_concurrency,
            "status_batch_size": status_batch_size,
        }
        settings = engine_settings(config, **self._fixed, log_interval=log_interval)
        #: seconds a SIGTERM lets in-flight submissions finish (``engine.drain_timeout``)
        self.drain_timeout = settings.drain_timeout
        self.health = DatabaseHealth()
        store.db.observe(self.health.record)
        self.loop_lag = LoopLagMonitor()
        self.gc_pauses = GcPauses()
        gc.callbacks.append(self.gc_pauses)
        self.events = TransitionEvents(interval=settings.log_interval)
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
            debounce=settings.reconcile_debounce,
            list_active=store.batches_to_reconcile,
        )
        self.tracker = Tracker(
            store,
            moodys,
            self.leases,
            self.health,
            self.events,
            settings.tracker,
            on_settled=self._settled,
            rng=rng,
        )
        self.dispatcher = Dispatcher(
            store,
            moodys,
            self.leases,
            self.health,
            self.events,
            settings.dispatcher,
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
            settings.canceller,
            on_cancel_sent=self.tracker.add,
            on_not_cancellable=self.tracker.poll_soon,
        )

    # --- settings (irpd.engine.settings: one mapping, at start and on SIGHUP) -------------
    def reconfigure(self, config: EngineConfig, *, log_interval: float) -> None:
        """Apply a reloaded ``[engine]`` to the running parts (SIGHUP). ``worker_id`` and
        ``lease_ttl`` are fixed at start (the caller keeps the running values)."""
        settings = engine_settings(config, **self._fixed, log_interval=log_interval)
        self.config = config
        self.tracker.settings = settings.tracker  # its poll budget and lost-workflow rule too
        self.dispatcher.settings = settings.dispatcher
        self.canceller.settings = settings.canceller
        self.reconciler.debounce = settings.reconcile_debounce
        self.events.interval = settings.log_interval
        self.drain_timeout = settings.drain_timeout

    def running(self) -> EngineSettings:
        """The settings the running parts use now (what :meth:`reconfigure` changes)."""
        return EngineSettings(
            tracker=self.tracker.settings,
            dispatcher=self.dispatcher.settings,
            canceller=self.canceller.settings,
            reconcile_debounce=self.reconciler.debounce,
            drain_timeout=self.drain_timeout,
            log_interval=self.events.interval,
        )

    # --- wiring callbacks ---------------------------------------------------------------
    def _acknowledged(self, rows: Sequence[Acknowledged]) -> None:
        for row in rows:
            self.tracker.add(row.id, row.batch_id, row.status, row.workflow_id)
            if row.status in CANCEL_PENDING_JOB_STATUSES:
                self.canceller.wake()

    def _settled(self, rows: Sequence[Moved]) -> None:
        self.reconciler.notify({row.batch_id for row in rows})

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
