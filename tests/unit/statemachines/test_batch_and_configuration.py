"""Batch and configuration lifecycles."""

from __future__ import annotations

import pytest

from statemachines.batch import (
    BATCH_LIFECYCLE,
    BatchStatus,
    batch_after_recon,
    batch_next,
    batch_on_job_submitted,
    never_submitted,
    withdraws,
)
from statemachines.configuration import (
    CONFIGURATION_LIFECYCLE,
    ConfigurationStatus,
    configuration_next,
    configuration_on_batch_submitted,
)
from statemachines.errors import IllegalTransition

B = BatchStatus
C = ConfigurationStatus

BATCH_EXPECTED: dict[tuple[BatchStatus, str], BatchStatus] = {
    (B.INITIATED, "submit"): B.ACTIVE,
    (B.INITIATED, "withdraw"): B.CANCELLED,
    (B.FAILED, "reactivate"): B.ACTIVE,
    (B.CANCELLED, "reactivate"): B.ACTIVE,
    (B.ACTIVE, "reconcile_completed"): B.COMPLETED,
    (B.FAILED, "reconcile_completed"): B.COMPLETED,
    (B.CANCELLED, "reconcile_completed"): B.COMPLETED,
    (B.ACTIVE, "reconcile_failed"): B.FAILED,
    (B.CANCELLED, "reconcile_failed"): B.FAILED,
    (B.ACTIVE, "reconcile_cancelled"): B.CANCELLED,
    (B.FAILED, "reconcile_cancelled"): B.CANCELLED,
}
BATCH_TRIGGERS = sorted({trigger for _, trigger in BATCH_EXPECTED})

CONFIG_EXPECTED: dict[tuple[ConfigurationStatus, str], ConfigurationStatus] = {
    (C.NEW, "validate_ok"): C.VALID,
    (C.NEW, "validate_failed"): C.ERROR,
    (C.VALID, "activate"): C.ACTIVE,
}
CONFIG_TRIGGERS = sorted({trigger for _, trigger in CONFIG_EXPECTED})


def test_batch_table_is_exactly_the_expected_one() -> None:
    assert dict(BATCH_LIFECYCLE.lookup) == BATCH_EXPECTED


@pytest.mark.parametrize("current", list(BatchStatus))
@pytest.mark.parametrize("trigger", BATCH_TRIGGERS)
def test_batch_next(current: BatchStatus, trigger: str) -> None:
    expected = BATCH_EXPECTED.get((current, trigger))
    if expected is not None:
        assert batch_next(9, current, trigger) is expected
        return
    with pytest.raises(IllegalTransition, match=f"^Batch 9 is {current}; cannot {trigger} "):
        batch_next(9, current, trigger)


def test_completed_batch_is_final() -> None:
    assert not [pair for pair in BATCH_LIFECYCLE.lookup if pair[0] is B.COMPLETED]


@pytest.mark.parametrize(
    ("current", "computed", "stored"),
    [
        (B.INITIATED, B.COMPLETED, B.INITIATED),
        (B.INITIATED, B.FAILED, B.INITIATED),
        (B.INITIATED, B.ACTIVE, B.INITIATED),
        (B.ACTIVE, B.ACTIVE, B.ACTIVE),
        (B.ACTIVE, B.COMPLETED, B.COMPLETED),
        (B.ACTIVE, B.FAILED, B.FAILED),
        (B.ACTIVE, B.CANCELLED, B.CANCELLED),
        (B.FAILED, B.COMPLETED, B.COMPLETED),  # failed job force-ok'ed
        (B.FAILED, B.CANCELLED, B.CANCELLED),
        (B.FAILED, B.FAILED, B.FAILED),
        (B.FAILED, B.ACTIVE, B.FAILED),  # only submitting a resubmitted job reactivates
        (B.CANCELLED, B.FAILED, B.FAILED),
        (B.CANCELLED, B.COMPLETED, B.COMPLETED),
        (B.CANCELLED, B.ACTIVE, B.CANCELLED),
        (B.COMPLETED, B.FAILED, B.COMPLETED),
        (B.COMPLETED, B.ACTIVE, B.COMPLETED),
        (B.COMPLETED, B.CANCELLED, B.COMPLETED),
    ],
)
def test_batch_after_recon(
    current: BatchStatus, computed: BatchStatus, stored: BatchStatus
) -> None:
    assert batch_after_recon(9, current, computed) is stored


def test_recon_cannot_compute_initiated() -> None:
    with pytest.raises(ValueError, match="Batch 9: reconciliation cannot compute INITIATED"):
        batch_after_recon(9, B.ACTIVE, B.INITIATED)


@pytest.mark.parametrize(
    ("current", "after"),
    [(B.INITIATED, B.ACTIVE), (B.ACTIVE, B.ACTIVE), (B.FAILED, B.ACTIVE), (B.CANCELLED, B.ACTIVE)],
)
def test_batch_on_job_submitted(current: BatchStatus, after: BatchStatus) -> None:
    assert batch_on_job_submitted(9, current) is after


def test_job_submitted_in_completed_batch_is_refused() -> None:
    with pytest.raises(IllegalTransition) as caught:
        batch_on_job_submitted(9, B.COMPLETED)
    assert str(caught.value) == (
        "Batch 9 is COMPLETED; cannot reactivate (allowed from: FAILED, CANCELLED)"
    )


def test_configuration_table_is_exactly_the_expected_one() -> None:
    assert dict(CONFIGURATION_LIFECYCLE.lookup) == CONFIG_EXPECTED


@pytest.mark.parametrize("current", list(ConfigurationStatus))
@pytest.mark.parametrize("trigger", CONFIG_TRIGGERS)
def test_configuration_next(current: ConfigurationStatus, trigger: str) -> None:
    expected = CONFIG_EXPECTED.get((current, trigger))
    if expected is not None:
        assert configuration_next(3, current, trigger) is expected
        return
    with pytest.raises(IllegalTransition) as caught:
        configuration_next(3, current, trigger)
    sources = ", ".join(str(s) for (s, t) in CONFIG_EXPECTED if t == trigger)
    assert str(caught.value) == (
        f"Configuration 3 is {current}; cannot {trigger} (allowed from: {sources})"
    )


@pytest.mark.parametrize(("current", "after"), [(C.VALID, C.ACTIVE), (C.ACTIVE, C.ACTIVE)])
def test_configuration_on_batch_submitted(
    current: ConfigurationStatus, after: ConfigurationStatus
) -> None:
    assert configuration_on_batch_submitted(3, current) is after


@pytest.mark.parametrize("current", [C.NEW, C.ERROR])
def test_unvalidated_configuration_cannot_activate(current: ConfigurationStatus) -> None:
    with pytest.raises(IllegalTransition, match="cannot activate"):
        configuration_on_batch_submitted(3, current)


def test_only_a_batch_never_submitted_is_withdrawn_by_a_cancel() -> None:
    assert [s for s in B if withdraws(s)] == [B.INITIATED]
    assert withdraws("INITIATED")  # a status read from the database


def test_only_an_initiated_batch_is_still_to_be_submitted() -> None:
    assert [s for s in B if never_submitted(s)] == [B.INITIATED]
