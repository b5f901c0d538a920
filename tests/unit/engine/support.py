"""Engine settings for unit tests: the daemon's, from the default configuration (defaults
live in irpd/config.py only), with what a test changes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from irpd.config import Config
from irpd.engine.settings import EngineSettings, engine_settings
from irpd.engine.tracker import TrackerSettings


def default_settings() -> EngineSettings:
    """The running settings of a daemon started with no configuration file."""
    config = Config()
    return engine_settings(
        config.engine,
        submit_concurrency=config.moodys.submit_concurrency,
        status_batch_size=config.moodys.status_batch_size,
        log_interval=config.logging.aggregate_interval,
    )


def tracker_settings(**overrides: Any) -> TrackerSettings:
    """The default tracker settings with ``overrides``."""
    return replace(default_settings().tracker, **overrides)
