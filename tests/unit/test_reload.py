"""SIGHUP reload planning: live keys apply, the rest are reported as needing a restart."""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass, replace
from typing import Any

import pytest

from irpd.config import Config, EngineConfig, LoggingConfig, MoodysConfig
from irpd.engine.settings import EngineSettings, engine_settings
from irpd.moodys.circuit import MoodysHealthState
from irpd.reload import plan_reload, reloaded
from irpd.wiring import circuit_settings


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


def test_the_circuit_breaker_applies_at_once() -> None:
    fresh = replace(
        Config(), moodys=MoodysConfig(circuit_open_after=3, circuit_max_probe_interval=10.0)
    )
    plan = plan_reload(Config(), fresh)
    assert plan.apply == {"moodys.circuit_open_after": 3, "moodys.circuit_max_probe_interval": 10.0}
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


# --- one mapping from configuration to running settings ---------------------------------


def _changed_value(value: Any) -> Any:
    """Another valid value of a configuration key (every key's type has one)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value * 2 if value else 1
    return {"info": "debug", "auto": "json", "": "other"}.get(value, value + "x")


def _with(config: Config, section: str, key: str) -> Config:
    part = getattr(config, section)
    return replace(config, **{section: replace(part, **{key: _changed_value(getattr(part, key))})})


LIVE_KEYS = [
    (section, f.name)
    for section in ("engine", "logging")
    for f in fields(getattr(Config(), section))
]


def _running(config: Config) -> EngineSettings:
    return engine_settings(
        config.engine, submit_concurrency=8, status_batch_size=100,
        log_interval=config.logging.aggregate_interval,
    )  # fmt: skip


def _leaves(before: Any, after: Any, owner: type | None = None) -> set[tuple[type, str]]:
    """``(settings class, field)`` of every field that differs, nested settings included."""
    changed: set[tuple[type, str]] = set()
    for f in fields(before):
        old, new = getattr(before, f.name), getattr(after, f.name)
        if old == new:
            continue
        if is_dataclass(old):
            changed |= _leaves(old, new, type(old))
        else:
            changed.add((type(before), f.name))
    return changed


MOODYS_KEYS = [("moodys", f.name) for f in fields(MoodysConfig)]


def _applied(section: str, key: str) -> tuple[Config, Config] | None:
    """(running before, running after) a reload changing ``key``; None when the reload
    reports it as needing a restart (and nothing else)."""
    current = Config()
    fresh = _with(current, section, key)
    plan = plan_reload(current, fresh)
    name = f"{section}.{key}"
    if name not in plan.apply:
        assert plan.restart_needed == [name]
        return None
    assert plan.restart_needed == []
    running = reloaded(current, fresh)
    assert getattr(getattr(running, section), key) == getattr(getattr(fresh, section), key)
    return current, running


@pytest.mark.parametrize(("section", "key"), LIVE_KEYS, ids=str)
def test_a_key_reported_as_applied_changes_the_running_settings(section: str, key: str) -> None:
    applied = _applied(section, key)
    if applied is None or (section, key) == ("logging", "level"):
        return  # needs a restart, or applied by irpd.logs.set_level (not an engine setting)
    current, running = applied
    assert _running(running) != _running(current), key


MOODYS_KEYS = [("moodys", f.name) for f in fields(MoodysConfig)]


@pytest.mark.parametrize(("section", "key"), MOODYS_KEYS, ids=str)
def test_a_moodys_key_reported_as_applied_changes_the_running_breaker(
    section: str, key: str
) -> None:
    """Of ``[moodys]``, only the circuit breaker's keys apply; what they apply is what the
    running breaker then uses (the same mapping as at start)."""
    applied = _applied(section, key)
    if applied is None:
        return
    current, running = applied
    health = MoodysHealthState(circuit_settings(current.moodys))
    before = health.circuit.settings
    health.reconfigure(circuit_settings(running.moodys))
    assert health.circuit.settings != before, key
    assert health.circuit.settings == circuit_settings(running.moodys)
    shown = health.snapshot()["circuit"][key.removeprefix("circuit_")]
    assert shown == getattr(running.moodys, key)


@pytest.mark.parametrize(("section", "key"), LIVE_KEYS, ids=str)
def test_a_configured_setting_has_its_default_only_in_the_configuration(
    section: str, key: str
) -> None:
    """irpd.toml's defaults are irpd/config.py's (tests/unit/test_config.py); the settings
    classes the configuration feeds define none of their own."""
    changed = _leaves(_running(Config()), _running(_with(Config(), section, key)))
    for owner, name in changed:
        if owner is EngineSettings:
            continue  # the bundle itself: no defaults at all
        declared = {f.name: f for f in fields(owner)}[name]
        if not declared.init:
            continue  # derived from the others (PollPolicy.growth_cap)
        assert declared.default is MISSING, f"{owner.__name__}.{name} repeats {section}.{key}"
        assert declared.default_factory is MISSING, f"{owner.__name__}.{name}"
