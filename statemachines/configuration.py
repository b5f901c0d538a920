"""The configuration lifecycle: NEW → VALID | ERROR by validation; VALID → ACTIVE when its
first batch is submitted."""

from __future__ import annotations

from enum import StrEnum

from statemachines.lifecycle import Lifecycle, Transition


class ConfigurationStatus(StrEnum):
    """Status of a cycle configuration (a loaded workbook)."""

    NEW = "NEW"
    VALID = "VALID"
    ERROR = "ERROR"
    ACTIVE = "ACTIVE"


C = ConfigurationStatus

#: a batch may be created from a configuration in one of these (spec: create_batch)
BATCHABLE_CONFIGURATION_STATUSES = frozenset({C.VALID, C.ACTIVE})

CONFIGURATION_TRANSITIONS: tuple[Transition[ConfigurationStatus], ...] = (
    Transition("validate_ok", (C.NEW,), C.VALID),
    Transition("validate_failed", (C.NEW,), C.ERROR),
    Transition("activate", (C.VALID,), C.ACTIVE),
)

CONFIGURATION_LIFECYCLE: Lifecycle[ConfigurationStatus] = Lifecycle(
    entity="Configuration",
    states=ConfigurationStatus,
    initial=C.NEW,
    final=frozenset({C.ERROR, C.ACTIVE}),
    transitions=CONFIGURATION_TRANSITIONS,
)


def configuration_next(
    configuration_id: int | str, current: ConfigurationStatus, trigger: str
) -> ConfigurationStatus:
    """The status a trigger leads to; raises ``IllegalTransition`` when it is not legal."""
    return CONFIGURATION_LIFECYCLE.next(configuration_id, current, trigger)


def configuration_on_batch_submitted(
    configuration_id: int | str, current: ConfigurationStatus
) -> ConfigurationStatus:
    """The configuration status once one of its batches was submitted.

    VALID → ACTIVE (``activate``); ACTIVE stays ACTIVE; NEW/ERROR raise ``IllegalTransition``.
    """
    trigger = batch_submitted_trigger(current)
    if trigger is None:
        return current
    return CONFIGURATION_LIFECYCLE.next(configuration_id, current, trigger)


def batch_submitted_trigger(current: ConfigurationStatus) -> str | None:
    """The trigger a configuration in ``current`` fires once one of its batches is submitted:
    ``activate`` (illegal from NEW and ERROR), none when already ACTIVE."""
    return None if current == C.ACTIVE else "activate"
