"""Job transition log events, aggregated at scale to stay under journald's rate limits.

Each transition is logged as ``job_transitioned`` until ``per_interval`` events have been
written in the current interval; after that, transitions are only counted, and one
``job_transitions_summary`` event per interval reports what was not logged individually.
Every transition is in the database's tracking log either way.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from operator import itemgetter

import structlog

log = structlog.get_logger("irpd.engine")

#: a move's target and (source, target), read in C: 100,000 moves are counted per burst
_TARGET = itemgetter(3)
_PAIR = itemgetter(2, 3)


class TransitionEvents:
    """Rate-aware logger for job transitions."""

    def __init__(
        self,
        *,
        interval: float = 10.0,
        per_interval: int = 200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._per_interval = per_interval
        self._clock = clock
        self._window_start = clock()
        self._logged = 0
        self._suppressed: Counter[tuple[str, str]] = Counter()
        self.total: Counter[str] = Counter()

    def transitioned(
        self,
        job_id: int,
        batch_id: int,
        source: str,
        target: str,
        *,
        workflow_id: str | None = None,
        cause: str = "moodys",
    ) -> None:
        """Record one committed transition (call only after the commit)."""
        self.transitioned_many([(job_id, batch_id, source, target, workflow_id)], cause=cause)

    def transitioned_many(
        self, moves: Sequence[tuple[int, int, str, str, str | None]], *, cause: str = "moodys"
    ) -> None:
        """Record committed transitions ``(job_id, batch_id, source, target, workflow_id)``
        (call only after the commit): each is logged while the interval's budget lasts, the
        rest are counted for the interval's summary."""
        self._roll()
        self.total.update(map(_TARGET, moves))
        room = max(0, self._per_interval - self._logged)
        for job_id, batch_id, source, target, workflow_id in moves[:room]:
            self._logged += 1
            log.info(
                "job_transitioned",
                job_id=job_id,
                batch_id=batch_id,
                workflow_id=workflow_id,
                **{"from": source, "to": target},
                cause=cause,
            )
        if len(moves) > room:
            self._suppressed.update(map(_PAIR, moves[room:]))

    def flush(self) -> None:
        """Emit the summary of suppressed events now (e.g. at shutdown)."""
        if self._suppressed:
            log.info(
                "job_transitions_summary",
                interval_seconds=round(self._clock() - self._window_start, 1),
                suppressed=sum(self._suppressed.values()),
                transitions={f"{a}->{b}": n for (a, b), n in sorted(self._suppressed.items())},
            )
        self._suppressed.clear()
        self._logged = 0
        self._window_start = self._clock()

    def _roll(self) -> None:
        if self._clock() - self._window_start >= self.interval:
            self.flush()


class Throttled:
    """Log an event at most once per ``interval`` per key, counting repeats in between."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._repeats: Counter[str] = Counter()

    def warning(self, event: str, key: str = "", **fields: object) -> None:
        """Log ``event`` now unless it was logged for ``key`` within the interval."""
        marker = f"{event}:{key}"
        now = self._clock()
        if now - self._last.get(marker, -1e18) >= self.interval:
            repeats = self._repeats.pop(marker, 0)
            self._last[marker] = now
            log.warning(event, repeats_since_last=repeats, **fields)
        else:
            self._repeats[marker] += 1
