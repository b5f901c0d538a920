"""The client's result types: workflow status snapshots and submission results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from statemachines.moodys import MOODYS_ACTIVE_STATUSES, MOODYS_TERMINAL_STATUSES

#: documented workflow / job statuses (spec §2.4; defined in statemachines.moodys), as the
#: plain strings ``WorkflowStatus.status`` holds
TERMINAL_STATUSES: Final = frozenset(status.value for status in MOODYS_TERMINAL_STATUSES)
ACTIVE_STATUSES: Final = frozenset(status.value for status in MOODYS_ACTIVE_STATUSES)
KNOWN_STATUSES: Final = TERMINAL_STATUSES | ACTIVE_STATUSES


@dataclass(slots=True)
class WorkflowStatus:
    """One poll's view of a Moody's workflow (or Platform job); treat it as read-only (not
    frozen: a frozen dataclass costs 4 µs to build, and the tracker builds one per poll).

    ``status`` is Moody's raw string, kept even when unknown (an unknown status is treated as
    not terminal). ``raw`` holds the JSON object only when the caller asked for it.
    """

    workflow_id: str
    status: str
    progress: int | None = None
    name: str | None = None
    type: str | None = None
    submit_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    messages: tuple[str, ...] = ()
    raw: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def is_terminal(self) -> bool:
        """FINISHED, FAILED or CANCELLED (terminal is not success: check ``status``)."""
        return self.status in TERMINAL_STATUSES

    @property
    def is_known_status(self) -> bool:
        """Whether ``status`` is one of the documented statuses."""
        return self.status in KNOWN_STATUSES


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    """What a submission produced.

    ``workflow_id`` is the id to track (``None`` for synchronous operations, which are
    ``completed``). ``request`` and ``response`` are JSON-ready records for storage: no
    ``Authorization`` header, no upload credentials.
    """

    workflow_id: str | None
    completed: bool
    request: dict[str, Any]
    response: dict[str, Any]
