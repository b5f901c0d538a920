"""SIGHUP on a real engine: every key a reload reports as applied changes the running parts,
through the one mapping used at start (irpd.engine.settings)."""

from __future__ import annotations

from dataclasses import fields

from irpd.config import Config
from irpd.engine.settings import engine_settings
from irpd.reload import plan_reload, reloaded
from tests.unit.test_reload import _with

from .conftest import FAST, Rig


async def test_every_applied_key_changes_the_running_engine(rig: Rig) -> None:
    engine = rig.engine()
    current = Config(engine=FAST)
    fixed = {"submit_concurrency": 8, "status_batch_size": 100}
    assert engine.running() == engine_settings(
        FAST, **fixed, log_interval=current.logging.aggregate_interval
    )
    for section in ("engine", "logging"):
        for key in (f.name for f in fields(getattr(current, section))):
            fresh = _with(current, section, key)
            plan = plan_reload(current, fresh)
            if f"{section}.{key}" not in plan.apply or key == "level":
                continue  # needs a restart, or is the log level (irpd.logs.set_level)
            before = engine.running()
            running = reloaded(current, fresh)
            engine.reconfigure(running.engine, log_interval=running.logging.aggregate_interval)
            after = engine.running()
            assert after != before, f"{section}.{key}"
            assert after == engine_settings(
                running.engine, **fixed, log_interval=running.logging.aggregate_interval
            )
            assert engine.tracker.lost.lost_after == running.engine.lost_workflow_after
            current = running
