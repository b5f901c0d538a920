"""The batch lifecycle: submitted once, then driven by reconciliation of its jobs.

``INITIATED → ACTIVE`` when submitted; reconciliation moves an ACTIVE batch to COMPLETED,
FAILED or CANCELLED. A FAILED or CANCELLED batch returns to ACTIVE when a resubmitted job
of it is submitted (``reactivate``); reconciliation may also move it to COMPLETED (a failed
job force-ok'ed) or between FAILED and CANCELLED. COMPLETED is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from statemachines.lifecycle import Lifecycle, Transition


class BatchStatus(StrEnum):
    """Status of a batch (spec: irp_batch.status)."""

    INITIATED = "INITIATED"
    ACTIVE = "ACTIVE"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


B = BatchStatus

#: a batch in one of these never changes status again
FINAL_BATCH_STATUSES = frozenset({B.COMPLETED})
#: statuses reconciliation may compute (see statemachines.recon)
RECON_RESULTS = frozenset({B.ACTIVE, B.COMPLETED, B.FAILED, B.CANCELLED})

BATCH_TRANSITIONS: tuple[Transition[BatchStatus], ...] = (
    Transition("submit", (B.INITIATED,), B.ACTIVE),
    # an operator withdrew a batch never submitted (batch cancel): it stops being live
    Transition("withdraw", (B.INITIATED,), B.CANCELLED),
    # a resubmitted job of a FAILED/CANCELLED batch was submitted
    Transition("reactivate", (B.FAILED, B.CANCELLED), B.ACTIVE),
    Transition("reconcile_completed", (B.ACTIVE, B.FAILED, B.CANCELLED), B.COMPLETED),
    Transition("reconcile_failed", (B.ACTIVE, B.CANCELLED), B.FAILED),
    Transition("reconcile_cancelled", (B.ACTIVE, B.FAILED), B.CANCELLED),
)

BATCH_LIFECYCLE: Lifecycle[BatchStatus] = Lifecycle(
    entity="Batch",
    states=BatchStatus,
    initial=B.INITIATED,
    final=FINAL_BATCH_STATUSES,
    transitions=BATCH_TRANSITIONS,
)

#: the trigger a reconciliation result fires (ACTIVE fires none: see batch_after_recon)
RECON_TRIGGERS: Mapping[BatchStatus, str] = MappingProxyType(
    {
        B.COMPLETED: "reconcile_completed",
        B.FAILED: "reconcile_failed",
        B.CANCELLED: "reconcile_cancelled",
    }
)


def batch_next(batch_id: int | str, current: BatchStatus, trigger: str) -> BatchStatus:
    """The status a trigger leads to; raises ``IllegalTransition`` when it is not legal."""
    return BATCH_LIFECYCLE.next(batch_id, current, trigger)


def batch_after_recon(
    batch_id: int | str, current: BatchStatus, computed: BatchStatus
) -> BatchStatus:
    """The status to store after reconciliation computed ``computed``; never raises for a
    legal ``computed``.

    An INITIATED batch keeps INITIATED and a COMPLETED batch stays COMPLETED whatever recon
    computes. A computed ACTIVE never moves a FAILED/CANCELLED batch back: only submitting
    a resubmitted job does (``reactivate``).
    """
    if computed not in RECON_RESULTS:
        msg = f"Batch {batch_id}: reconciliation cannot compute {computed}"
        raise ValueError(msg)
    trigger = RECON_TRIGGERS.get(computed)
    if trigger is None:
        return current
    return BATCH_LIFECYCLE.lookup.get((current, trigger), current)


def never_submitted(current: BatchStatus | str) -> bool:
    """True while ``submit`` is legal from ``current``: the batch is still to be submitted."""
    return (current, "submit") in BATCH_LIFECYCLE.lookup


def withdraws(current: BatchStatus | str) -> bool:
    """True when an operator's cancel withdraws the batch itself (``withdraw`` is legal from
    ``current``: never submitted); otherwise only its jobs are cancelled."""
    return (current, "withdraw") in BATCH_LIFECYCLE.lookup


def job_submitted_trigger(current: BatchStatus) -> str | None:
    """The trigger a batch in ``current`` fires once one of its jobs is submitted: ``submit``
    from INITIATED, ``reactivate`` otherwise (illegal from COMPLETED), none when ACTIVE."""
    if current == B.ACTIVE:
        return None
    return "submit" if current == B.INITIATED else "reactivate"


def batch_on_job_submitted(batch_id: int | str, current: BatchStatus) -> BatchStatus:
    """The batch status once one of its jobs was submitted to Moody's.

    INITIATED → ACTIVE (``submit``), FAILED/CANCELLED → ACTIVE (``reactivate``), ACTIVE
    stays ACTIVE; a COMPLETED batch raises ``IllegalTransition`` (``reactivate``).
    """
    trigger = job_submitted_trigger(current)
    return current if trigger is None else BATCH_LIFECYCLE.next(batch_id, current, trigger)
