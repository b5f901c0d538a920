"""Degraded states of the daemon become notifications (``daemon_degraded``/``_recovered``).

Each *probe* returns ``None`` while its component is fine, else a reason. A state that lasts
``notifications.degraded_after`` seconds is notified once; its end is notified once more. A
notification that cannot be written (the database is the component that is down) is written
as soon as the database answers again: an outage of the database itself is reported when it
is over, with how long it lasted (the Prometheus alerts cover it while it lasts).

Register more probes with :meth:`DegradedWatch.add` (Moody's authentication, a circuit
breaker, the database's degraded mode as other parts of irpd expose them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from irpd.db.database import Database, DatabaseUnavailable

log = structlog.get_logger("irpd.notify")

#: a probe: None while fine, else why the component is degraded
Probe = Callable[[], str | None]


@dataclass
class _State:
    since: float | None = None
    reason: str = ""
    announced: bool = False  # daemon_degraded written
    due: bool = False  # degraded long enough to be told


@dataclass(frozen=True, slots=True)
class Component:
    """A probe and the advice that goes with it."""

    probe: Probe
    next_step: str


class DegradedWatch:
    """Looks at the probes every ``interval`` seconds (a supervised task: :meth:`run`)."""

    def __init__(
        self,
        db: Database,
        *,
        degraded_after: float,
        worker_id: str,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._after = degraded_after
        self._worker = worker_id
        self._interval = interval
        self._clock = clock
        self._components: dict[str, Component] = {}
        self._states: dict[str, _State] = {}

    def add(self, name: str, probe: Probe, next_step: str) -> None:
        """Watch one more component."""
        self._components[name] = Component(probe, next_step)
        self._states[name] = _State()

    async def run(self) -> None:
        """Check forever."""
        while True:
            await self.check()
            await asyncio.sleep(self._interval)

    async def check(self) -> None:
        """Look at every probe once; write what is due (kept for later if the write fails)."""
        now = self._clock()
        for name, component in self._components.items():
            state = self._states[name]
            reason = component.probe()
            if reason is not None:
                if state.since is None:
                    state.since, state.reason = now, reason
                state.due = state.due or now - state.since >= self._after
                if state.due and not state.announced:
                    details = self._details(name, state, now, component.next_step)
                    state.announced = await self._write("daemon_degraded", "critical", details)
            elif state.since is not None:
                if state.due:
                    details = self._details(name, state, now, component.next_step)
                    if not await self._write("daemon_recovered", "info", details):
                        continue  # try again at the next check
                self._states[name] = _State()

    def _details(self, name: str, state: _State, now: float, next_step: str) -> dict[str, Any]:
        assert state.since is not None
        return {
            "component": name,
            "reason": state.reason,
            "lasted_seconds": round(now - state.since),
            "worker_id": self._worker,
            "next_step": next_step,
        }

    async def _write(self, kind: str, severity: str, details: dict[str, Any]) -> bool:
        try:
            await self._db.fetchval("notification_insert", kind, severity, details)
        except DatabaseUnavailable:
            return False
        component, reason = details["component"], details["reason"]
        lasted = details["lasted_seconds"]
        if kind == "daemon_degraded":
            log.warning("daemon_degraded", component=component, reason=reason, lasted=lasted)
        else:
            log.info("daemon_recovered", component=component, reason=reason, lasted=lasted)
        return True
