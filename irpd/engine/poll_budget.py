"""The tracker's share of operator priority: how much it may poll while operators are active.

Background polling of 100,000 jobs competes with ``irpctl`` for a 2-core machine. While a
control command runs or arrived recently (:class:`~irpd.engine.priority.OperatorActivity`),
the tracker polls whole status requests under ``max_polls_per_second`` (a small token bucket)
and waits, bounded, for running commands between slices of CPU work; otherwise it polls
everything due. Kept apart from the tracker so that its polling algorithm reads on its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

from irpd.engine.priority import OperatorActivity


class BudgetSettings(Protocol):
    """The tracker's settings the budget reads (:class:`irpd.engine.tracker.TrackerSettings`)."""

    @property
    def max_polls_per_second(self) -> float: ...
    @property
    def ids_per_request(self) -> int: ...
    @property
    def max_due(self) -> int: ...
    @property
    def operator_yield(self) -> float: ...


class PollBudget:
    """A token bucket of workflow ids that only applies while operators are active.

    It reads the tracker's settings on every call, so a SIGHUP's new settings apply at once."""

    def __init__(
        self,
        settings: Callable[[], BudgetSettings],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._tokens = settings().max_polls_per_second
        self._tokens_at = clock()
        self._operators = OperatorActivity()

    def follow(self, operators: OperatorActivity) -> None:
        """Yield to these operators' commands (the control server's activity)."""
        self._operators = operators

    def hurried(self) -> bool:
        """True while operators are active: poll one request's worth per chunk."""
        return self._operators.recent()

    def allowed(self) -> int:
        """How many jobs may be polled now: all that are due (up to ``max_due``), or while
        operators are active, whole requests' worth under ``max_polls_per_second``."""
        settings = self._settings()
        rate = settings.max_polls_per_second
        now = self._clock()
        # a bucket of a tenth of a second (at least one request): small, even steps
        capacity = max(rate * 0.1, float(settings.ids_per_request))
        if rate <= 0 or not self._operators.recent():
            # no debt from unhurried times: operators find a full (small) bucket
            self._tokens, self._tokens_at = capacity, now
            return settings.max_due
        self._tokens = min(capacity, self._tokens + (now - self._tokens_at) * rate)
        self._tokens_at = now
        step = max(1, settings.ids_per_request)
        return min(settings.max_due, int(self._tokens) // step * step)

    def spend(self, polled: int) -> None:
        """Take a hurried chunk's ids out of the bucket."""
        self._tokens -= polled

    async def yield_to_operators(self) -> None:
        """Wait for a running command, up to ``operator_yield`` seconds."""
        await self._operators.yield_to_operators(self._settings().operator_yield)

    async def pause(self) -> None:
        """Between slices of CPU work: let the loop run what is ready (timers, I/O, the other
        chunks' steps) before the next slice; while operators are active, first wait for a
        running command. Always: a 1,000-job chunk decided in one step held the loop ~5 ms,
        and the parallel chunks' steps added up to 20-30 ms loop iterations
        (docs/performance.md, *Steady-state loop lag*)."""
        if self._operators.recent():
            await self.yield_to_operators()
        await asyncio.sleep(0)
