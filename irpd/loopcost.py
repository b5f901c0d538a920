"""What one control answer costs the event loop, measured as it runs (issue 17).

The server opens a :class:`LoopCost` for each request (a context variable, so the handler's
own code sees it without being passed it); the steps that run on the loop without yielding —
converting a page's rows to JSON types, encoding a piece of the answer — are timed with
:func:`step` in CPU time of the loop's thread (``time.thread_time``), so that the figure is
what the step itself cost, not how long the machine made it wait. The server logs the result
(``control_answered``, debug) and the listing benchmark reads it from there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(slots=True)
class LoopCost:
    """CPU seconds of the timed steps of one answer: their sum, the longest, how many."""

    cpu_s: float = 0.0
    longest_s: float = 0.0
    steps: int = 0

    def add(self, seconds: float) -> None:
        """One more step."""
        self.cpu_s += seconds
        self.longest_s = max(self.longest_s, seconds)
        self.steps += 1


_current: ContextVar[LoopCost | None] = ContextVar("irpd_loop_cost", default=None)


def begin() -> LoopCost:
    """A new cost for the answer being computed in this context (the calling task)."""
    cost = LoopCost()
    _current.set(cost)
    return cost


@contextmanager
def step() -> Iterator[None]:
    """Time the enclosed synchronous work as one step of the current answer (if any)."""
    cost = _current.get()
    if cost is None:
        yield
        return
    started = time.thread_time()
    try:
        yield
    finally:
        cost.add(time.thread_time() - started)
