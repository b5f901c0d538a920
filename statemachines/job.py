"""The job lifecycle: engine/operator commands, and statuses reported by Moody's.

Two tables, both data:

* :data:`JOB_LIFECYCLE`: commands from the engine and the operator (``begin_submit``,
  ``acknowledge``, ``request_cancel``, ``force_ok`` ...), run with :func:`job_next`.
* :data:`REPORT_DECISIONS`: what a status *reported by Moody's* does to a job in each
  status, run with :func:`apply_reported_status`. Moody's may repeat, skip, reorder or
  invent statuses; the decision says whether to apply, ignore, or log the report. The
  ``apply`` entries also form :data:`JOB_REPORT_LIFECYCLE` (triggers ``report_<status>``),
  so the reported moves have a ``transitions`` Machine and a diagram like the commands.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Literal

from statemachines.lifecycle import Lifecycle, Transition
from statemachines.moodys import MOODYS_STATUSES, MoodysStatus
from statemachines.moodys import MOODYS_TERMINAL_STATUSES as _MOODYS_TERMINAL
from statemachines.moves import Move


class JobStatus(StrEnum):
    """Status of one job (one Moody's workflow submission)."""

    INITIATED = "INITIATED"
    SUBMITTING = "SUBMITTING"  # intent persisted; Moody's has not acknowledged yet
    SUBMITTED = "SUBMITTED"
    # a job in flight mirrors what Moody's reports (statemachines.moodys)
    QUEUED = MoodysStatus.QUEUED.value
    PENDING = MoodysStatus.PENDING.value
    RUNNING = MoodysStatus.RUNNING.value
    FINISHED = MoodysStatus.FINISHED.value
    FAILED = MoodysStatus.FAILED.value
    CANCEL_REQUESTED = MoodysStatus.CANCEL_REQUESTED.value
    CANCELLING = MoodysStatus.CANCELLING.value
    CANCELLED = MoodysStatus.CANCELLED.value
    FORCED_OK = "FORCED_OK"  # operator declared it done, with a reason
    ERROR = "ERROR"  # Moody's refused the submission for good, or lost its workflow


J = JobStatus

TERMINAL_JOB_STATUSES = frozenset({J.FINISHED, J.FAILED, J.CANCELLED, J.FORCED_OK, J.ERROR})
#: statuses with a Moody's workflow that still needs polling
IN_FLIGHT_JOB_STATUSES = frozenset(
    {J.SUBMITTED, J.QUEUED, J.PENDING, J.RUNNING, J.CANCEL_REQUESTED, J.CANCELLING}
)
#: what the tracker polls by workflow id (SUBMITTING has no id yet: recovery finds it by name)
POLLABLE_JOB_STATUSES = IN_FLIGHT_JOB_STATUSES
#: Moody's has the job and has not finished it; ordered by progress
LIVE_JOB_STATUSES = (J.SUBMITTED, J.QUEUED, J.PENDING, J.RUNNING)
#: a cancel is on its way; live reports are ignored meanwhile
CANCEL_PENDING_JOB_STATUSES = frozenset({J.CANCEL_REQUESTED, J.CANCELLING})
#: the statuses Moody's reports (statemachines.moodys), as the job statuses they become
MOODYS_REPORTED_STATUSES = tuple(JobStatus(status.value) for status in MOODYS_STATUSES)
MOODYS_TERMINAL_STATUSES = frozenset(JobStatus(status.value) for status in _MOODYS_TERMINAL)
#: a job in one of these fulfils its job configuration (batch reconciliation)
SUCCESSFUL_JOB_STATUSES = frozenset({J.FINISHED, J.FORCED_OK})
#: a non-skipped job in one of these fails its batch (batch reconciliation)
FAILED_JOB_STATUSES = frozenset({J.FAILED, J.ERROR})

JOB_TRANSITIONS: tuple[Transition[JobStatus], ...] = (
    # the dispatcher persisted the idempotency key and workflow name, before the HTTP call
    Transition("begin_submit", (J.INITIATED,), J.SUBMITTING),
    # Moody's returned the workflow id
    Transition("acknowledge", (J.SUBMITTING,), J.SUBMITTED),
    # synchronous operations (create-portfolio ...): nothing to track. From CANCEL_REQUESTED
    # too: a cancel asked while the HTTP call was in flight cannot stop its answer.
    Transition("complete_synchronously", (J.SUBMITTING, J.CANCEL_REQUESTED), J.FINISHED),
    # permanent refusal, or a reference-data name that does not resolve (same reasoning)
    Transition("refuse", (J.SUBMITTING, J.CANCEL_REQUESTED), J.ERROR),
    # pre-flight: a reference the job needs does not exist at Moody's; refused before sending
    Transition("refuse_preflight", (J.INITIATED,), J.ERROR),
    # operator: a job never sent to Moody's is cancelled on the spot
    Transition("request_cancel", (J.INITIATED,), J.CANCELLED),
    Transition("request_cancel", (J.SUBMITTING, *LIVE_JOB_STATUSES), J.CANCEL_REQUESTED),
    # the daemon sent DELETE and Moody's accepted it
    Transition("cancel_sent", (J.CANCEL_REQUESTED,), J.CANCELLING),
    # Moody's has said for longer than engine.lost_workflow_after that it does not know the
    # job's workflow (e.g. it lost it): the tracker gives up on it; the operator may resubmit
    Transition("declare_lost", tuple(sorted(IN_FLIGHT_JOB_STATUSES, key=list(J).index)), J.ERROR),
    # operator, reason required by the ops layer; never from in-flight statuses nor FINISHED
    Transition("force_ok", (J.INITIATED, J.FAILED, J.ERROR, J.CANCELLED), J.FORCED_OK),
)

JOB_LIFECYCLE: Lifecycle[JobStatus] = Lifecycle(
    entity="Job",
    states=JobStatus,
    initial=J.INITIATED,
    final=TERMINAL_JOB_STATUSES,
    transitions=JOB_TRANSITIONS,
)


def job_next(job_id: int | str, current: JobStatus, trigger: str) -> JobStatus:
    """The status a command leads to; raises ``IllegalTransition`` when it is not legal."""
    return JOB_LIFECYCLE.next(job_id, current, trigger)


# --- statuses reported by Moody's -------------------------------------------------------

DecisionKind = Literal["apply", "unchanged", "stale", "refused", "unknown"]


@dataclass(frozen=True, slots=True)
class StatusDecision:
    """What to do with one reported status.

    ``kind``: ``apply`` (write ``target``), ``unchanged`` (no status write; the caller still
    records the poll), ``stale`` (an out-of-order report: not applied, log it), ``refused``
    (illegal for this job, e.g. a report on a terminal job: not applied, log it) or
    ``unknown`` (not a status Moody's defines: job unchanged, log it). ``target`` is set
    only for ``apply``. ``reason`` is a stable snake_case word for log events.
    """

    kind: DecisionKind
    target: JobStatus | None
    reason: str


_PROGRESS_RANK: Mapping[JobStatus, int] = MappingProxyType(
    {J.SUBMITTING: -1, J.SUBMITTED: 0, J.QUEUED: 1, J.PENDING: 2, J.RUNNING: 3}
)
_LIVE_REPORTS = frozenset({J.QUEUED, J.PENDING, J.RUNNING})
_SAME = StatusDecision("unchanged", None, "same_status")
_CANCEL_PENDING = StatusDecision("unchanged", None, "cancel_pending")
_BACKWARDS = StatusDecision("stale", None, "backwards")
_ON_TERMINAL = StatusDecision("refused", None, "terminal_job")
_NOT_SUBMITTED = StatusDecision("refused", None, "not_submitted")
UNKNOWN_STATUS = StatusDecision("unknown", None, "unknown_status")


def _apply(target: JobStatus) -> StatusDecision:
    return StatusDecision("apply", target, "applied")


def _decide_for_cancel_pending(current: JobStatus, reported: JobStatus) -> StatusDecision:
    if reported in _LIVE_REPORTS:
        return _CANCEL_PENDING
    if reported in MOODYS_TERMINAL_STATUSES:
        return _apply(reported)
    # CANCELLING after CANCEL_REQUESTED is progress; CANCEL_REQUESTED after CANCELLING is not
    return _apply(reported) if current is J.CANCEL_REQUESTED else _BACKWARDS


def _decide(current: JobStatus, reported: JobStatus) -> StatusDecision:
    """The rule behind :data:`REPORT_DECISIONS` (evaluated once per pair, at import)."""
    if reported is current:
        return _SAME
    if current in TERMINAL_JOB_STATUSES:
        return _ON_TERMINAL
    if current is J.INITIATED:
        return _NOT_SUBMITTED
    if current in CANCEL_PENDING_JOB_STATUSES:
        return _decide_for_cancel_pending(current, reported)
    # current is SUBMITTING (recovery found the workflow by name) or live
    if reported in _LIVE_REPORTS and _PROGRESS_RANK[reported] < _PROGRESS_RANK[current]:
        return _BACKWARDS
    return _apply(reported)


REPORT_DECISIONS: Mapping[tuple[JobStatus, str], StatusDecision] = MappingProxyType(
    {
        (current, str(reported)): _decide(current, reported)
        for current in JobStatus
        for reported in MOODYS_REPORTED_STATUSES
    }
)


def apply_reported_status(current: JobStatus, reported: str | None) -> StatusDecision:
    """Decide what a status reported by Moody's (any string) does to a job; O(1).

    Exact strings are looked up first; on a miss the string is stripped and upper-cased
    (tolerating ``"running"``), and anything else (``None`` included) is ``unknown``.
    Never raises for a report; raises ``ValueError`` only if ``current`` is not a job status.
    """
    if reported is not None:
        decision = REPORT_DECISIONS.get((current, reported))
        if decision is None:
            decision = REPORT_DECISIONS.get((current, reported.strip().upper()))
        if decision is not None:
            return decision
    JobStatus(current)  # a programming error upstream must not pass as "unknown"
    return UNKNOWN_STATUS


def report_trigger(reported: JobStatus) -> str:
    """The trigger name of a reported status in :data:`JOB_REPORT_LIFECYCLE`."""
    return f"report_{reported.lower()}"


JOB_REPORT_LIFECYCLE: Lifecycle[JobStatus] = Lifecycle(
    entity="Job",
    states=JobStatus,
    initial=J.SUBMITTED,
    final=TERMINAL_JOB_STATUSES,
    transitions=tuple(
        Transition(
            report_trigger(reported),
            tuple(
                current
                for current in JobStatus
                if REPORT_DECISIONS[(current, str(reported))].kind == "apply"
            ),
            reported,
        )
        for reported in MOODYS_REPORTED_STATUSES
    ),
)


#: the trigger of each reported status in :data:`JOB_REPORT_LIFECYCLE` (once per report)
REPORT_TRIGGERS: Mapping[JobStatus, str] = MappingProxyType(
    {status: report_trigger(status) for status in MOODYS_REPORTED_STATUSES}
)


def report_move(
    job_id: int, current: str, target: JobStatus, data: dict[str, Any] | None = None
) -> Move:
    """The move an applied report makes (``decision.target`` of :func:`apply_reported_status`
    for a job in ``current``), from :data:`JOB_REPORT_LIFECYCLE`; O(1)."""
    return JOB_REPORT_LIFECYCLE.move(job_id, current, REPORT_TRIGGERS[target], data)


def report_error(target: JobStatus, messages: Sequence[str]) -> str | None:
    """``last_error`` of a job a report moves to ``target``: Moody's messages for FAILED
    (the caller clips the text to what is stored), ``None`` (keep the stored one) otherwise.
    The tracker and ``job track`` share this rule."""
    return "; ".join(messages) if target is J.FAILED else None
