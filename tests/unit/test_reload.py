"""SIGHUP reload planning: live keys apply, the rest are reported as needing a restart."""

from __future__ import annotations

from dataclasses import replace

from irpd.config import Config, EngineConfig, LoggingConfig, MoodysConfig
from irpd.reload import plan_reload


def test_nothing_changed_means_nothing_to_do() -> None:
    plan = plan_reload(Config(), Config())
    assert plan.apply == {}
    assert plan.restart_needed == []


def test_log_level_and_poll_intervals_apply_at_once() -> None:
    fresh = replace(
        Config(),
        logging=LoggingConfig(level="debug"),
        engine=EngineConfig(poll_min_interval=2.0, dispatch_batch_size=50),
    )
    plan = plan_reload(Config(), fresh)
    assert plan.apply == {
        "logging.level": "debug",
        "engine.poll_min_interval": 2.0,
        "engine.dispatch_batch_size": 50,
    }
    assert plan.restart_needed == []


def test_connection_settings_and_identity_need_a_restart() -> None:
    fresh = replace(
        Config(),
        moodys=MoodysConfig(submit_concurrency=16, api_key="new-secret-key"),
        engine=EngineConfig(worker_id="other", lease_ttl=30.0),
    )
    plan = plan_reload(Config(), fresh)
    assert plan.apply == {}
    assert plan.restart_needed == [
        "engine.lease_ttl",
        "engine.worker_id",
        "moodys.api_key",
        "moodys.submit_concurrency",
    ]
    assert "new-secret-key" not in repr(plan)
