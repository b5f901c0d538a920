"""The tenant concurrency quota, evaluated lazily by a sweep over simulated time.

Workflows are admitted (QUEUED → PENDING) in submission order, never before their drawn
minimum queue time, and only while fewer than ``quota`` admitted workflows hold a slot. A
slot is held from admission until the workflow is terminal.

Nothing runs in the background. Every request first calls :meth:`AdmissionQueue.advance`
with the current simulated time; the sweep replays, in time order, every admission and slot
release that happened since the previous call. Each workflow is admitted once and each slot
released once, so a read costs amortised O(log n) however many workflows are live.

The invariant that makes this exact: all admissions and releases up to the last ``advance``
instant are applied, and none after it. A cancel (which moves a release) or a quota change
is applied only after advancing to its own instant, so it never rewrites the past.
"""

from __future__ import annotations

import heapq
from collections import deque

from irpd.moodys.fake.timeline import WorkflowRecord


class AdmissionQueue:
    """FIFO admission under a quota (None: unlimited; 0: paused)."""

    def __init__(self, quota: int | None) -> None:
        self._quota = quota
        self._waiting: deque[WorkflowRecord] = deque()
        self._releases: list[tuple[float, int, int, WorkflowRecord]] = []
        self._occupied = 0
        self._last_admission = float("-inf")
        self._swept_to = float("-inf")

    @property
    def quota(self) -> int | None:
        """Current quota."""
        return self._quota

    @property
    def occupied(self) -> int:
        """Slots held at the last sweep instant."""
        return self._occupied

    @property
    def waiting(self) -> int:
        """Workflows not yet admitted (including cancelled ones not yet skipped)."""
        return len(self._waiting)

    def enqueue(self, record: WorkflowRecord) -> None:
        """Queue a new workflow (call after :meth:`advance` to its submission instant)."""
        self._waiting.append(record)

    def advance(self, now: float) -> None:
        """Apply every admission and release up to *now*."""
        if now < self._swept_to:
            return
        self._admit_until(now)
        self._release_until(now)
        self._swept_to = now

    def set_quota(self, quota: int | None, now: float) -> None:
        """Change the quota from *now* on (admissions before now are kept)."""
        self.advance(now)
        self._quota = quota
        self._last_admission = max(self._last_admission, now)
        self.advance(now)

    def moved_release(self, record: WorkflowRecord, now: float) -> None:
        """A slot holder's end moved (cancel requested at *now*); re-file its release."""
        self.advance(now)
        record.slot_version += 1
        if record.holding_slot:
            self._push_release(record)

    def _admit_until(self, now: float) -> None:
        waiting = self._waiting
        while waiting:
            head = waiting[0]
            if head.cancel_at is not None:
                # cancelled while queued: never admitted; it held the line until then
                waiting.popleft()
                self._last_admission = max(self._last_admission, head.cancel_at)
                continue
            at = max(head.ready_at, self._last_admission)
            if at > now:
                return
            self._release_until(at)
            while self._quota is not None and self._occupied >= self._quota:
                nxt = self._next_release()
                if nxt is None or nxt > now:
                    return
                at = max(at, nxt)
                self._release_until(at)
            waiting.popleft()
            self._admit(head, at)

    def _admit(self, record: WorkflowRecord, at: float) -> None:
        record.admitted_at = at
        record.holding_slot = True
        self._occupied += 1
        self._last_admission = at
        self._push_release(record)

    def _push_release(self, record: WorkflowRecord) -> None:
        end = record.end_time()
        assert end is not None
        heapq.heappush(self._releases, (end, record.id, record.slot_version, record))

    def _next_release(self) -> float | None:
        releases = self._releases
        while releases and releases[0][2] != releases[0][3].slot_version:
            heapq.heappop(releases)  # superseded by a cancel
        return releases[0][0] if releases else None

    def _release_until(self, t: float) -> None:
        releases = self._releases
        while releases and releases[0][0] <= t:
            _, _, version, record = heapq.heappop(releases)
            if version == record.slot_version and record.holding_slot:
                record.holding_slot = False
                self._occupied -= 1
