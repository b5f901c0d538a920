"""One place maps the configuration to the engine's running settings.

:func:`engine_settings` turns ``[engine]`` (plus the two ``[moodys]`` bounds the engine obeys
and ``logging.aggregate_interval``) into the settings of the tracker, dispatcher, canceller,
reconciler and transition log. The engine uses it when it is built and again on SIGHUP
(:meth:`irpd.engine.engine.Engine.reconfigure`), so what a reload reports as applied is
exactly what changes the running objects (``tests/integration/engine/test_reload_settings.py``
checks every key). Defaults live in :mod:`irpd.config` only: the settings classes have none
for what the configuration feeds them; their other fields are internals tuned by the
benchmark (``docs/performance.md``), constants with a comment where they are defined.
"""

from __future__ import annotations

from dataclasses import dataclass

from irpd.config import EngineConfig
from irpd.engine.canceller import CancellerSettings
from irpd.engine.dispatcher import DispatcherSettings
from irpd.engine.tracker import TrackerSettings
from statemachines.polling import PollPolicy


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Everything of the engine that the configuration decides."""

    tracker: TrackerSettings
    dispatcher: DispatcherSettings
    canceller: CancellerSettings
    reconcile_debounce: float
    drain_timeout: float
    #: seconds per transition-log interval (``logging.aggregate_interval``)
    log_interval: float


def poll_policy(config: EngineConfig) -> PollPolicy:
    """The tracker's poll policy from ``[engine]``."""
    return PollPolicy(
        min_interval=config.poll_min_interval,
        max_interval=config.poll_max_interval,
        growth=config.poll_growth,
        jitter=config.poll_jitter,
    )


def engine_settings(
    config: EngineConfig,
    *,
    submit_concurrency: int,
    status_batch_size: int,
    log_interval: float,
) -> EngineSettings:
    """The running settings for ``config`` (``submit_concurrency`` and ``status_batch_size``
    come from ``[moodys]`` and are fixed at start; ``log_interval`` from ``[logging]``)."""
    return EngineSettings(
        tracker=TrackerSettings(
            policy=poll_policy(config),
            tick=config.tracker_tick,
            recovery_spread=config.recovery_spread,
            max_polls_per_second=config.max_polls_per_second,
            operator_yield=config.operator_yield,
            ids_per_request=status_batch_size,
            db_retry_max=config.db_retry_max_interval,
            lost_workflow_after=config.lost_workflow_after,
        ),
        dispatcher=DispatcherSettings(
            # at least one job per submission slot, or the slots could never all be used
            batch_size=max(config.dispatch_batch_size, submit_concurrency),
            concurrency=submit_concurrency,
            idle_interval=config.dispatch_idle_interval,
            first_poll_in=config.poll_min_interval,
            db_retry_max=config.db_retry_max_interval,
        ),
        canceller=CancellerSettings(first_poll_in=config.poll_min_interval),
        reconcile_debounce=config.reconcile_debounce,
        drain_timeout=config.drain_timeout,
        log_interval=log_interval,
    )
