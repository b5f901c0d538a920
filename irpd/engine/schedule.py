"""The tracker's in-memory poll schedule: a few hundred bytes per in-flight job, no tasks.

Jobs live in a dict keyed by id; due times live in a heap of entries that order by due time,
then id. Rescheduling pushes a new heap entry; stale entries are skipped when popped (lazy
deletion), so every operation is O(log n).

An entry is one int (the due time in microseconds and the job id packed together), not a
``(due, job_id)`` tuple: a tuple is a container the garbage collector tracks, and 100,000 jobs
rescheduled every few seconds left tens of thousands of them in the young generation (a popped
old entry freed for each new one pushed, so the young generation grew without triggering a
collection), which one young collection then scanned at once: 25-60 ms loop stalls. Ints are
not tracked (docs/performance.md, *Steady-state loop lag*).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Final

#: bits of an entry that hold the job id (ids are PostgreSQL bigints: below 2**63)
_ID_BITS: Final = 64
_ID_MASK: Final = (1 << _ID_BITS) - 1
#: due times are kept to the microsecond in an entry
_TICKS: Final = 1_000_000


def _entry(due: float, job_id: int) -> int:
    """The heap entry of ``job_id`` due at ``due``: ordered by due time, then id."""
    return (math.floor(due * _TICKS) << _ID_BITS) | job_id


def _due_of(entry: int) -> float:
    return (entry >> _ID_BITS) / _TICKS


@dataclass(slots=True)
class TrackedJob:
    """What the tracker remembers of one in-flight job."""

    id: int
    batch_id: int
    status: str
    workflow_id: str
    since: float
    polls_in_status: int
    due: float
    progress: int | None = None
    persisted: float = 0.0
    #: its current heap entry (the same int object as in the heap: 8 bytes), -1 for none;
    #: an entry popped is live when it is this one, with no entry to recompute per pop
    entry: int = -1


class PollSchedule:
    """In-flight jobs and when each is next due for a poll."""

    def __init__(self) -> None:
        self._jobs: dict[int, TrackedJob] = {}
        self._heap: list[int] = []

    def __len__(self) -> int:
        return len(self._jobs)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._jobs

    def get(self, job_id: int) -> TrackedJob | None:
        """The tracked job, if any."""
        return self._jobs.get(job_id)

    def ids(self) -> list[int]:
        """Every tracked job id."""
        return list(self._jobs)

    def jobs(self) -> list[TrackedJob]:
        """Every tracked job (a copy of the list: safe to walk across awaits)."""
        return list(self._jobs.values())

    def put(self, job: TrackedJob) -> None:
        """Track (or re-track) ``job`` due at ``job.due``."""
        self._jobs[job.id] = job
        self._push(job, job.due)

    def reschedule(self, job_id: int, due: float) -> None:
        """Move a tracked job's next poll to ``due``."""
        job = self._jobs.get(job_id)
        if job is not None:
            self._push(job, due)

    def reschedule_job(self, job: TrackedJob, due: float) -> None:
        """:meth:`reschedule` for a job already at hand (a tracked one: one lookup less)."""
        self._push(job, due)

    def remove(self, job_id: int) -> TrackedJob | None:
        """Stop tracking a job (its heap entries become stale)."""
        return self._jobs.pop(job_id, None)

    def next_due(self) -> float | None:
        """The earliest due time, or None when nothing is tracked."""
        self._drop_stale_head()
        return self._jobs[self._heap[0] & _ID_MASK].due if self._heap else None

    def pop_due(self, now: float, limit: int) -> list[TrackedJob]:
        """Up to ``limit`` jobs due at or before ``now``, earliest first.

        Popped jobs stay tracked; the caller reschedules them after the poll.
        """
        out: list[TrackedJob] = []
        while self._heap and len(out) < limit:
            entry = self._heap[0]
            if _due_of(entry) > now:
                break
            heapq.heappop(self._heap)
            job = self._live(entry)
            if job is not None:
                if job.due > now:  # due within the entry's microsecond, just after now
                    heapq.heappush(self._heap, entry)
                    break
                job.due, job.entry = float("inf"), -1  # in flight: not due until rescheduled
                out.append(job)
        return out

    def _push(self, job: TrackedJob, due: float) -> None:
        job.due = due
        if math.isfinite(due):  # an infinite due time is never due: nothing to push
            job.entry = _entry(due, job.id)
            heapq.heappush(self._heap, job.entry)
        else:
            job.entry = -1

    def _live(self, entry: int) -> TrackedJob | None:
        """The job of ``entry`` if the entry is its current one (else the entry is stale)."""
        job = self._jobs.get(entry & _ID_MASK)
        return job if job is not None and job.entry == entry else None

    def _drop_stale_head(self) -> None:
        while self._heap:
            if self._live(self._heap[0]) is not None:
                return
            heapq.heappop(self._heap)

    def needs_compaction(self) -> bool:
        """True when stale heap entries outnumber the live ones."""
        return len(self._heap) > 2 * len(self._jobs) + 1024

    def compact(self) -> None:
        """Rebuild the heap when stale entries dominate (keeps memory bounded)."""
        if self.needs_compaction():
            self._heap = [j.entry for j in self._jobs.values() if j.entry >= 0]
            heapq.heapify(self._heap)
