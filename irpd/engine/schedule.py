"""The tracker's in-memory poll schedule: a few hundred bytes per in-flight job, no tasks.

Jobs live in a dict keyed by id; due times live in a heap of ``(due, job_id)``. Rescheduling
pushes a new heap entry; stale entries are skipped when popped (lazy deletion), so every
operation is O(log n).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass


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


class PollSchedule:
    """In-flight jobs and when each is next due for a poll."""

    def __init__(self) -> None:
        self._jobs: dict[int, TrackedJob] = {}
        self._heap: list[tuple[float, int]] = []

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
        heapq.heappush(self._heap, (job.due, job.id))

    def reschedule(self, job_id: int, due: float) -> None:
        """Move a tracked job's next poll to ``due``."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.due = due
            heapq.heappush(self._heap, (due, job_id))

    def remove(self, job_id: int) -> TrackedJob | None:
        """Stop tracking a job (its heap entries become stale)."""
        return self._jobs.pop(job_id, None)

    def next_due(self) -> float | None:
        """The earliest due time, or None when nothing is tracked."""
        self._drop_stale_head()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float, limit: int) -> list[TrackedJob]:
        """Up to ``limit`` jobs due at or before ``now``, earliest first.

        Popped jobs stay tracked; the caller reschedules them after the poll.
        """
        out: list[TrackedJob] = []
        while self._heap and len(out) < limit:
            due, job_id = self._heap[0]
            if due > now:
                break
            heapq.heappop(self._heap)
            job = self._jobs.get(job_id)
            if job is not None and job.due == due:
                job.due = float("inf")  # in flight: not due again until rescheduled
                out.append(job)
        return out

    def _drop_stale_head(self) -> None:
        while self._heap:
            due, job_id = self._heap[0]
            job = self._jobs.get(job_id)
            if job is not None and job.due == due:
                return
            heapq.heappop(self._heap)

    def needs_compaction(self) -> bool:
        """True when stale heap entries outnumber the live ones."""
        return len(self._heap) > 2 * len(self._jobs) + 1024

    def compact(self) -> None:
        """Rebuild the heap when stale entries dominate (keeps memory bounded)."""
        if self.needs_compaction():
            self._heap = [(j.due, j.id) for j in self._jobs.values() if j.due != float("inf")]
            heapq.heapify(self._heap)
