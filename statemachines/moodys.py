"""The statuses Moody's reports for a workflow (RM) or a job (Platform): the one vocabulary.

Spec moodys-api §2.4. The client (:mod:`irpd.moodys.models`), the engine (through
:mod:`statemachines.job`) and the fake server (:mod:`irpd.moodys.fake.timeline`) import these
instead of spelling the strings themselves.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class MoodysStatus(StrEnum):
    """A workflow status as Moody's reports it, in the spec's order."""

    QUEUED = "QUEUED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    CANCEL_REQUESTED = "CANCEL_REQUESTED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"


M = MoodysStatus

#: every documented status, in the spec's order
MOODYS_STATUSES: Final = tuple(MoodysStatus)
#: Moody's is done with the workflow (terminal is not success: FAILED and CANCELLED are too)
MOODYS_TERMINAL_STATUSES: Final = frozenset({M.FINISHED, M.FAILED, M.CANCELLED})
#: Moody's still has work to do (or a cancel to carry out)
MOODYS_ACTIVE_STATUSES: Final = frozenset(MOODYS_STATUSES) - MOODYS_TERMINAL_STATUSES
