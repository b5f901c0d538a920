"""Statuses reported by Moody's: the decision rules and their invariants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from statemachines.errors import IllegalTransition
from statemachines.job import (
    JOB_LIFECYCLE,
    JOB_REPORT_LIFECYCLE,
    MOODYS_REPORTED_STATUSES,
    REPORT_DECISIONS,
    TERMINAL_JOB_STATUSES,
    JobStatus,
    StatusDecision,
    apply_reported_status,
    job_next,
    report_trigger,
)

J = JobStatus
LIVE_RANK = {J.SUBMITTED: 0, J.QUEUED: 1, J.PENDING: 2, J.RUNNING: 3}
REPORTED_STRINGS = {str(status) for status in MOODYS_REPORTED_STATUSES}


def kind(current: JobStatus, reported: str) -> str:
    return apply_reported_status(current, reported).kind


def test_moodys_reported_statuses_are_the_spec_ones() -> None:
    assert [str(status) for status in MOODYS_REPORTED_STATUSES] == [
        "QUEUED",
        "PENDING",
        "RUNNING",
        "FINISHED",
        "FAILED",
        "CANCEL_REQUESTED",
        "CANCELLING",
        "CANCELLED",
    ]


@pytest.mark.parametrize(
    ("current", "reported"),
    [
        (J.SUBMITTED, "QUEUED"),
        (J.SUBMITTED, "RUNNING"),  # skipping forward
        (J.QUEUED, "PENDING"),
        (J.QUEUED, "FINISHED"),  # skipping to the end
        (J.PENDING, "RUNNING"),
        (J.RUNNING, "FAILED"),
        (J.SUBMITTING, "QUEUED"),  # recovery found the workflow by name
        (J.SUBMITTING, "FINISHED"),
        (J.RUNNING, "CANCEL_REQUESTED"),  # cancelled on Moody's side
        (J.QUEUED, "CANCELLING"),
        (J.PENDING, "CANCELLED"),
        (J.CANCEL_REQUESTED, "CANCELLING"),
        (J.CANCEL_REQUESTED, "CANCELLED"),
        (J.CANCEL_REQUESTED, "FINISHED"),  # cancel raced with the end
        (J.CANCELLING, "CANCELLED"),
        (J.CANCELLING, "FAILED"),
    ],
)
def test_applied(current: JobStatus, reported: str) -> None:
    assert apply_reported_status(current, reported) == StatusDecision(
        "apply", JobStatus(reported), "applied"
    )


@pytest.mark.parametrize("status", MOODYS_REPORTED_STATUSES)
def test_same_status_again_is_unchanged(status: JobStatus) -> None:
    assert apply_reported_status(status, str(status)) == StatusDecision(
        "unchanged", None, "same_status"
    )


@pytest.mark.parametrize(
    ("current", "reported"),
    [(J.RUNNING, "QUEUED"), (J.RUNNING, "PENDING"), (J.PENDING, "QUEUED")],
)
def test_backwards_among_live_statuses_is_stale(current: JobStatus, reported: str) -> None:
    assert apply_reported_status(current, reported) == StatusDecision("stale", None, "backwards")


def test_cancel_requested_after_cancelling_is_stale() -> None:
    assert kind(J.CANCELLING, "CANCEL_REQUESTED") == "stale"


@pytest.mark.parametrize("current", [J.CANCEL_REQUESTED, J.CANCELLING])
@pytest.mark.parametrize("reported", ["QUEUED", "PENDING", "RUNNING"])
def test_live_reports_are_ignored_while_cancel_is_pending(
    current: JobStatus, reported: str
) -> None:
    assert apply_reported_status(current, reported) == StatusDecision(
        "unchanged", None, "cancel_pending"
    )


@pytest.mark.parametrize("current", sorted(TERMINAL_JOB_STATUSES))
@pytest.mark.parametrize("reported", MOODYS_REPORTED_STATUSES)
def test_report_on_terminal_job_is_refused(current: JobStatus, reported: JobStatus) -> None:
    expected = "unchanged" if reported == current else "refused"
    assert kind(current, str(reported)) == expected


@pytest.mark.parametrize("reported", MOODYS_REPORTED_STATUSES)
def test_report_on_never_submitted_job_is_refused(reported: JobStatus) -> None:
    assert apply_reported_status(J.INITIATED, str(reported)) == StatusDecision(
        "refused", None, "not_submitted"
    )


@pytest.mark.parametrize("reported", ["", "DONE", "SUBMITTED", "FORCED_OK", "ERROR", None])
def test_unknown_strings_are_unknown(reported: str | None) -> None:
    assert apply_reported_status(J.RUNNING, reported) == StatusDecision(
        "unknown", None, "unknown_status"
    )


def test_case_and_whitespace_are_tolerated() -> None:
    assert apply_reported_status(J.QUEUED, " running\n").target is J.RUNNING


def test_plain_string_current_status_works() -> None:
    assert apply_reported_status("QUEUED", "RUNNING").target is J.RUNNING  # type: ignore[arg-type]


def test_invalid_current_status_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="BOGUS"):
        apply_reported_status("BOGUS", "RUNNING")  # type: ignore[arg-type]


def test_decision_table_covers_every_pair_and_targets_only_apply() -> None:
    assert len(REPORT_DECISIONS) == len(JobStatus) * len(MOODYS_REPORTED_STATUSES)
    for (current, reported), decision in REPORT_DECISIONS.items():
        if decision.kind == "apply":
            assert decision.target == reported != current
        else:
            assert decision.target is None


def test_apply_decisions_agree_with_the_report_machine() -> None:
    for current in JobStatus:
        for reported in MOODYS_REPORTED_STATUSES:
            decision = apply_reported_status(current, str(reported))
            trigger = report_trigger(reported)
            if decision.kind == "apply":
                assert JOB_REPORT_LIFECYCLE.fire(1, current, trigger) is decision.target
            else:
                with pytest.raises(IllegalTransition):
                    JOB_REPORT_LIFECYCLE.fire(1, current, trigger)


# --- invariants, over arbitrary strings and event sequences -----------------------------

any_status = st.sampled_from(list(JobStatus))
reported_or_noise = st.one_of(st.sampled_from(sorted(REPORTED_STRINGS)), st.text(max_size=20))
command = st.sampled_from(JOB_LIFECYCLE.triggers)
event = st.one_of(
    st.tuples(st.just("report"), reported_or_noise), st.tuples(st.just("command"), command)
)


def _is_known(reported: str) -> bool:
    return reported.strip().upper() in REPORTED_STRINGS


@given(any_status, st.text())
def test_unknown_strings_never_change_state(current: JobStatus, reported: str) -> None:
    decision = apply_reported_status(current, reported)
    if not _is_known(reported):
        assert decision == StatusDecision("unknown", None, "unknown_status")
    assert (decision.kind == "apply") == (decision.target is not None)


@given(any_status, reported_or_noise)
def test_reports_never_leave_terminal_nor_move_backwards(current: JobStatus, reported: str) -> None:
    decision = apply_reported_status(current, reported)
    if decision.target is None:
        return
    assert current not in TERMINAL_JOB_STATUSES
    assert current is not J.INITIATED
    if current in LIVE_RANK and decision.target in LIVE_RANK:
        assert LIVE_RANK[decision.target] > LIVE_RANK[current]


@given(st.lists(event, max_size=30))
def test_any_sequence_of_facts_and_commands_keeps_the_invariants(
    events: list[tuple[str, str]],
) -> None:
    status = J.INITIATED
    for source, value in events:
        before = status
        if source == "report":
            target = apply_reported_status(status, value).target
            status = target if target is not None else status
            if not _is_known(value):
                assert status is before
        else:
            try:
                status = job_next(1, status, value)
            except IllegalTransition:
                assert status is before
        if before in TERMINAL_JOB_STATUSES and status is not before:
            assert (source, value) == ("command", "force_ok")
            assert before in {J.FAILED, J.ERROR, J.CANCELLED}
        if source == "report" and before in LIVE_RANK and status in LIVE_RANK:
            assert LIVE_RANK[status] >= LIVE_RANK[before]
