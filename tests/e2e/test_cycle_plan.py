"""A whole sample cycle driven by ``irpctl cycle run``: the daemon creates and submits every
step's batch in order; the operator only approves a gate and resubmits a scripted failure."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from irpd.plans import default_plan_text
from irpd.samples import sample_path
from irpd.samples.cycle_data import DEMO_FAILING_ANALYSIS

from . import steps
from .harness import Irpctl
from .ledger import duplicate_problems
from .stack import Stack

pytestmark = pytest.mark.e2e

FAILURE = "Analysis failed: event rate scheme not licensed (plan e2e)"
FIXED_EVENT_RATE = "RMS 2023 Long Term Event Rates"


def _status(ctl: Irpctl, cycle: str) -> dict[str, Any]:
    result: dict[str, Any] = ctl.json("cycle", "status", cycle)
    return result


def _step(ctl: Irpctl, cycle: str, name: str) -> dict[str, Any]:
    return next(s for s in _status(ctl, cycle)["steps"] if s["step"] == name)


def _until(ctl: Irpctl, cycle: str, probe: Any, what: str, timeout: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"{what} within {timeout:g} s; plan now:\n{ctl('cycle', 'status', cycle)}")


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_cycle_run_drives_the_plan_with_a_gate_and_a_resubmitted_failure(
    stack: Stack, tmp_path: Path
) -> None:
    ctl = stack.ctl
    cycle = steps.create_cycle(ctl)
    steps.load_workbook(ctl, cycle, sample_path())
    plan = tmp_path / "plan.toml"
    plan.write_text(
        default_plan_text().replace(
            'batch_type = "analysis"\nafter = ["geohaz"]',
            'batch_type = "analysis"\nafter = ["geohaz"]\napproval = true',
        ),
        encoding="utf-8",
    )
    stack.fake.script(DEMO_FAILING_ANALYSIS, "FAILED", FAILURE)

    started = ctl.json("cycle", "run", cycle, "--plan", plan)
    assert started["status"] == "RUNNING"
    assert started["steps"][0]["step"] == "edm_creation"

    # the gate: analysis waits for an operator once geohaz completed
    _until(
        ctl,
        cycle,
        lambda: _step(ctl, cycle, "analysis")["status"] == "AWAITING_APPROVAL",
        "analysis waiting for approval",
    )
    assert _step(ctl, cycle, "geohaz")["status"] == "COMPLETED"
    assert _step(ctl, cycle, "analysis")["batch_id"] is None
    ctl("cycle", "approve", cycle, "analysis", "--by", "e2e-operator")

    # the scripted failure: the step FAILS, the plan holds grouping
    failed = _until(
        ctl,
        cycle,
        lambda: (s := _step(ctl, cycle, "analysis"))["status"] == "FAILED" and s,
        "analysis step FAILED",
    )
    assert "batch resubmit-failed" in failed["waiting_for"]
    assert _step(ctl, cycle, "grouping")["status"] == "WAITING"
    analysis_batch = int(failed["batch_id"])
    victims = [j for j in steps.jobs(ctl, analysis_batch) if j["status"] == "FAILED"]
    assert len(victims) == 1
    data = steps.job_configuration_data(ctl, int(victims[0]["id"]))
    data["event_rate"] = FIXED_EVENT_RATE
    override = steps.write_override(tmp_path, data)
    new = ctl.json(
        "job", "resubmit", victims[0]["id"], "--override", override, "--reason", "licensed rate"
    )
    new_id = int(new.get("job_id", new.get("id")))
    if steps.job_show(ctl, new_id)["job"]["status"] == "INITIATED":
        ctl("job", "submit", new_id)

    done = _until(
        ctl, cycle, lambda: (s := _status(ctl, cycle))["status"] == "COMPLETED" and s, "plan done"
    )
    by_step = {s["step"]: s for s in done["steps"]}
    assert by_step["analysis"]["approved_by"] == "e2e-operator"
    assert {s["status"] for s in done["steps"]} == {"COMPLETED"}

    # one batch per step, each created only after the batches it waits for completed
    batches = {s["step"]: ctl.json("batch", "show", s["batch_id"]) for s in done["steps"]}
    assert len({b["id"] for b in batches.values()}) == len(done["steps"])
    for step in done["steps"]:
        for prerequisite in step["after"]:
            created = _ts(batches[step["step"]]["created_ts"])
            assert created > _ts(batches[prerequisite]["completed_ts"]), (step, prerequisite)
    jobs = [j for b in batches.values() for j in steps.jobs(ctl, int(b["id"]))]
    assert duplicate_problems(stack.ledger(), jobs) == []
