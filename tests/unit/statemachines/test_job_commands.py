"""Job commands from the engine and the operator: every legal and every illegal pair."""

from __future__ import annotations

import pytest

from statemachines.errors import IllegalTransition
from statemachines.job import (
    IN_FLIGHT_JOB_STATUSES,
    JOB_LIFECYCLE,
    POLLABLE_JOB_STATUSES,
    TERMINAL_JOB_STATUSES,
    JobStatus,
    job_next,
)

J = JobStatus

# Written out from the brief, independently of statemachines/job.py.
EXPECTED: dict[tuple[JobStatus, str], JobStatus] = {
    (J.INITIATED, "begin_submit"): J.SUBMITTING,
    (J.SUBMITTING, "acknowledge"): J.SUBMITTED,
    (J.SUBMITTING, "complete_synchronously"): J.FINISHED,
    (J.CANCEL_REQUESTED, "complete_synchronously"): J.FINISHED,
    (J.SUBMITTING, "refuse"): J.ERROR,
    (J.CANCEL_REQUESTED, "refuse"): J.ERROR,
    (J.INITIATED, "refuse_preflight"): J.ERROR,
    (J.INITIATED, "request_cancel"): J.CANCELLED,
    (J.SUBMITTING, "request_cancel"): J.CANCEL_REQUESTED,
    (J.SUBMITTED, "request_cancel"): J.CANCEL_REQUESTED,
    (J.QUEUED, "request_cancel"): J.CANCEL_REQUESTED,
    (J.PENDING, "request_cancel"): J.CANCEL_REQUESTED,
    (J.RUNNING, "request_cancel"): J.CANCEL_REQUESTED,
    (J.CANCEL_REQUESTED, "cancel_sent"): J.CANCELLING,
    # Moody's does not know the workflow any more (engine.lost_workflow_after)
    (J.SUBMITTED, "declare_lost"): J.ERROR,
    (J.QUEUED, "declare_lost"): J.ERROR,
    (J.PENDING, "declare_lost"): J.ERROR,
    (J.RUNNING, "declare_lost"): J.ERROR,
    (J.CANCEL_REQUESTED, "declare_lost"): J.ERROR,
    (J.CANCELLING, "declare_lost"): J.ERROR,
    (J.INITIATED, "force_ok"): J.FORCED_OK,
    (J.FAILED, "force_ok"): J.FORCED_OK,
    (J.ERROR, "force_ok"): J.FORCED_OK,
    (J.CANCELLED, "force_ok"): J.FORCED_OK,
}
TRIGGERS = sorted({trigger for _, trigger in EXPECTED})
ALL_PAIRS = [(status, trigger) for status in JobStatus for trigger in TRIGGERS]
LEGAL = [pair for pair in ALL_PAIRS if pair in EXPECTED]
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in EXPECTED]


def test_table_is_exactly_the_expected_one() -> None:
    assert dict(JOB_LIFECYCLE.lookup) == EXPECTED
    assert set(JOB_LIFECYCLE.triggers) == set(TRIGGERS)


@pytest.mark.parametrize(("current", "trigger"), LEGAL)
def test_legal_command(current: JobStatus, trigger: str) -> None:
    assert job_next(42, current, trigger) is EXPECTED[(current, trigger)]


@pytest.mark.parametrize(("current", "trigger"), ILLEGAL)
def test_illegal_command_is_refused_naming_job_status_and_sources(
    current: JobStatus, trigger: str
) -> None:
    allowed = [str(source) for (source, trig) in EXPECTED if trig == trigger]
    with pytest.raises(IllegalTransition) as caught:
        job_next(42, current, trigger)
    assert str(caught.value) == (
        f"Job 42 is {current}; cannot {trigger} (allowed from: {', '.join(allowed)})"
    )
    assert caught.value.current == current
    assert caught.value.attempted == trigger


def test_force_ok_message_from_the_brief() -> None:
    with pytest.raises(IllegalTransition) as caught:
        job_next(42, J.RUNNING, "force_ok")
    assert str(caught.value) == (
        "Job 42 is RUNNING; cannot force_ok (allowed from: INITIATED, FAILED, ERROR, CANCELLED)"
    )


def test_unknown_trigger_is_refused() -> None:
    with pytest.raises(IllegalTransition, match=r"cannot resubmit \(not a job trigger\)"):
        job_next(1, J.FAILED, "resubmit")


def test_force_ok_never_from_in_flight_or_finished() -> None:
    for status in (*IN_FLIGHT_JOB_STATUSES, J.SUBMITTING, J.FINISHED, J.FORCED_OK):
        with pytest.raises(IllegalTransition):
            job_next(1, status, "force_ok")


def test_only_force_ok_leaves_a_terminal_status() -> None:
    for (source, trigger), _dest in EXPECTED.items():
        if source in TERMINAL_JOB_STATUSES:
            assert trigger == "force_ok"
            assert source in {J.FAILED, J.ERROR, J.CANCELLED}


def test_status_sets() -> None:
    assert {J.FINISHED, J.FAILED, J.CANCELLED, J.FORCED_OK, J.ERROR} == TERMINAL_JOB_STATUSES
    assert {
        J.SUBMITTED,
        J.QUEUED,
        J.PENDING,
        J.RUNNING,
        J.CANCEL_REQUESTED,
        J.CANCELLING,
    } == IN_FLIGHT_JOB_STATUSES
    assert POLLABLE_JOB_STATUSES == IN_FLIGHT_JOB_STATUSES
    assert not TERMINAL_JOB_STATUSES & IN_FLIGHT_JOB_STATUSES


def test_operator_path_through_transitions_machine() -> None:
    assert JOB_LIFECYCLE.fire(42, J.FAILED, "force_ok") is J.FORCED_OK
    with pytest.raises(IllegalTransition, match="Job 42 is FINISHED; cannot force_ok"):
        JOB_LIFECYCLE.fire(42, J.FINISHED, "force_ok")
