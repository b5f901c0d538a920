"""One workflow's timeline: its status and progress at any simulated instant, computed lazily.

A record stores when it was submitted, the durations drawn for it, when the quota admitted
it and when (if ever) a cancel was requested. Nothing ticks: reading the status at ``t`` is
a few comparisons, which is what keeps 100,000 live workflows cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from statemachines.moodys import MOODYS_STATUSES, MOODYS_TERMINAL_STATUSES, MoodysStatus

# The shared vocabulary (statemachines.moodys) as plain strings: the fake renders and compares
# them for every workflow of every status request.
QUEUED: Final = MoodysStatus.QUEUED.value
PENDING: Final = MoodysStatus.PENDING.value
RUNNING: Final = MoodysStatus.RUNNING.value
FINISHED: Final = MoodysStatus.FINISHED.value
FAILED: Final = MoodysStatus.FAILED.value
CANCEL_REQUESTED: Final = MoodysStatus.CANCEL_REQUESTED.value
CANCELLING: Final = MoodysStatus.CANCELLING.value
CANCELLED: Final = MoodysStatus.CANCELLED.value

STATUSES: Final = tuple(status.value for status in MOODYS_STATUSES)
TERMINAL: Final = frozenset(status.value for status in MOODYS_TERMINAL_STATUSES)


@dataclass(slots=True, eq=False)
class WorkflowRecord:
    """A workflow (RM) or job (Platform) as the simulation keeps it. Mutable by design:
    admission and cancellation fill in their instants; everything else is fixed at birth."""

    id: int
    name: str
    type: str
    api: str | None
    submit_at: float
    submit_iso: str
    ready_at: float
    pending_s: float
    running_s: float
    body_text: str
    summary: dict[str, str]
    operations: tuple[str, ...] = ()
    op_inputs: tuple[str, ...] = ()
    fails: bool = False
    message: str | None = None
    fail_progress: int = 100
    result_id: int | None = None
    admitted_at: float | None = None
    cancel_at: float | None = None
    cancel_requested_s: float = 0.0
    cancelling_s: float = 0.0
    slot_version: int = 0
    holding_slot: bool = False
    priority: str = "Medium"
    start_iso: str | None = None
    end_iso: str | None = None
    #: what never changes after birth, as the JSON text between the parts that do
    #: (rendered on first use, see workflow_json._prepare; "" for multi-operation ones)
    first_json: str | None = None
    name_json: str = ""
    job_json: str = ""
    input_json: str = ""
    tail_json: str = ""

    @property
    def run_start(self) -> float | None:
        """When RUNNING starts (known once admitted)."""
        return None if self.admitted_at is None else self.admitted_at + self.pending_s

    def end_time(self) -> float | None:
        """When it becomes terminal, if that is decided yet."""
        if self.cancel_at is not None:
            return self.cancel_at + self.cancel_requested_s + self.cancelling_s
        if self.admitted_at is None:
            return None
        return self.admitted_at + self.pending_s + self.running_s

    def status_at(self, t: float) -> str:
        """The status at simulated instant *t* (never earlier than submission)."""
        cancel_at = self.cancel_at
        if cancel_at is not None and t >= cancel_at:
            if t < cancel_at + self.cancel_requested_s:
                return CANCEL_REQUESTED
            if t < cancel_at + self.cancel_requested_s + self.cancelling_s:
                return CANCELLING
            return CANCELLED
        admitted = self.admitted_at
        if admitted is None or t < admitted:
            return QUEUED
        if t < admitted + self.pending_s:
            return PENDING
        if t < admitted + self.pending_s + self.running_s:
            return RUNNING
        return FAILED if self.fails else FINISHED

    def progress_at(self, t: float) -> int:
        """Percent complete at *t*: rises while RUNNING, frozen by a cancel."""
        if self.cancel_at is not None and t >= self.cancel_at:
            t = self.cancel_at
        start = self.run_start
        if start is None or t < start:
            return 0
        cap = self.fail_progress if self.fails else 100
        if self.running_s <= 0 or t >= start + self.running_s:
            return cap
        return min(99, int(cap * (t - start) / self.running_s))

    def fraction_at(self, t: float) -> float:
        """How far through RUNNING it is at *t* (0..1), for per-operation views."""
        if self.cancel_at is not None and t >= self.cancel_at:
            t = self.cancel_at
        start = self.run_start
        if start is None or t < start:
            return 0.0
        if self.running_s <= 0:
            return 1.0
        return min(1.0, (t - start) / self.running_s)

    def is_terminal_at(self, t: float) -> bool:
        """Whether it has reached FINISHED, FAILED or CANCELLED by *t*."""
        end = self.end_time()
        return end is not None and t >= end

    def cancellable_at(self, t: float) -> bool:
        """A cancel may be requested: not terminal, and not already being cancelled."""
        return self.cancel_at is None and not self.is_terminal_at(t)
