"""The state machines fired for one object (the operator's single-object path), with their
refusals translated into domain errors.

Each function fires the ``transitions`` machine of the lifecycle (one transient model per
command, :meth:`statemachines.lifecycle.Lifecycle.fire`). ``statemachines`` raises
``IllegalTransition`` (it may not import ``irpd``); operations raise ``JobError`` /
``BatchError`` / ``ConfigurationError`` carrying the same message, which names the entity,
its status and the attempted move.
"""

from __future__ import annotations

from typing import Any

from irpd.errors import BatchError, ConfigurationError, JobError
from statemachines.batch import BATCH_LIFECYCLE, BatchStatus
from statemachines.configuration import CONFIGURATION_LIFECYCLE, ConfigurationStatus
from statemachines.errors import IllegalTransition
from statemachines.job import JOB_LIFECYCLE, JobStatus
from statemachines.moves import Move


def job_move(job_id: int, current: str, trigger: str, data: dict[str, Any] | None = None) -> Move:
    """The :class:`Move` ``trigger`` makes of the job, or ``JobError``."""
    try:
        return JOB_LIFECYCLE.fire_move(job_id, JobStatus(current), trigger, data)
    except IllegalTransition as refused:
        raise JobError(str(refused)) from refused


def batch_move(batch_id: int, current: str, trigger: str) -> BatchStatus:
    """The batch status ``trigger`` leads to, or ``BatchError``."""
    try:
        return BATCH_LIFECYCLE.fire(batch_id, BatchStatus(current), trigger)
    except IllegalTransition as refused:
        raise BatchError(str(refused)) from refused


def configuration_move(
    configuration_id: int | str, current: str, trigger: str
) -> ConfigurationStatus:
    """The configuration status ``trigger`` leads to, or ``ConfigurationError``."""
    try:
        return CONFIGURATION_LIFECYCLE.fire(configuration_id, ConfigurationStatus(current), trigger)
    except IllegalTransition as refused:
        raise ConfigurationError(str(refused)) from refused
