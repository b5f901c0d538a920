"""Cycle plans: validation names every problem; ``advance`` decides the runner's next moves."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from irpd.plans import default_plan_text
from irpd.transformers import builtin_registry
from statemachines.plan import (
    Plan,
    PlanError,
    StepState,
    StepStatus,
    advance,
    parse_plan,
)

S = StepStatus
TYPES = ("edm_creation", "portfolio_creation", "analysis", "grouping", "multi_job")


def _plan(*steps: dict[str, Any]) -> Plan:
    return parse_plan({"name": "t", "step": list(steps)}, TYPES)


def _chain() -> Plan:
    return _plan(
        {"name": "edm", "batch_type": "edm_creation"},
        {"name": "portfolio", "batch_type": "portfolio_creation", "after": ["edm"]},
        {"name": "analysis", "batch_type": "analysis", "after": ["portfolio"]},
        {
            "name": "grouping",
            "batch_type": "grouping",
            "after": ["analysis"],
            "start_when": "settled",
        },
    )


def _kinds(plan: Plan, states: dict[str, StepState], until: str | None = None) -> list[str]:
    return [f"{a.kind}:{a.step}" for a in advance(plan, states, until).actions]


def test_the_shipped_default_plan_validates_against_the_builtin_types() -> None:
    names = builtin_registry().names()
    plan = parse_plan(tomllib.loads(default_plan_text()), names)
    assert plan.steps[0].name == "edm_creation"
    assert {s.start_when for s in plan.steps} == {"completed"}
    order = [s.name for s in plan.steps]
    for step in plan.steps:
        assert all(order.index(p) < order.index(step.name) for p in step.after)


def test_every_problem_is_reported_at_once_naming_its_step() -> None:
    with pytest.raises(PlanError) as caught:
        _plan(
            {"name": "a", "batch_type": "no_such_type"},
            {"name": "b", "batch_type": "analysis", "after": ["ghost"]},
            {"name": "b", "batch_type": "grouping", "colour": "red"},
            {"name": "c", "batch_type": "edm_creation", "start_when": "whenever"},
        )
    problems = caught.value.problems
    assert any("step 'a': unknown batch type 'no_such_type'" in p for p in problems)
    assert any("step 'b': 'after' names unknown step 'ghost'" in p for p in problems)
    assert any("step 'b': defined twice" in p for p in problems)
    assert any("step 'b': unknown key 'colour'" in p for p in problems)
    assert any("step 'c': 'start_when' must be one of" in p for p in problems)


def test_a_cycle_in_the_graph_is_refused() -> None:
    with pytest.raises(PlanError, match="wait for each other"):
        _plan(
            {"name": "a", "batch_type": "edm_creation", "after": ["b"]},
            {"name": "b", "batch_type": "analysis", "after": ["a"]},
        )


def test_two_steps_of_one_batch_type_are_refused() -> None:
    with pytest.raises(PlanError, match="already step 'a'"):
        _plan(
            {"name": "a", "batch_type": "analysis"},
            {"name": "b", "batch_type": "analysis", "after": ["a"]},
        )


def test_steps_are_ordered_after_their_prerequisites_whatever_the_file_order() -> None:
    plan = _plan(
        {"name": "late", "batch_type": "analysis", "after": ["early"]},
        {"name": "early", "batch_type": "edm_creation"},
    )
    assert [s.name for s in plan.steps] == ["early", "late"]


def test_only_the_roots_start_on_an_empty_plan() -> None:
    progress = advance(_chain(), {})
    assert [f"{a.kind}:{a.step}" for a in progress.actions] == ["start:edm"]
    assert not progress.finished
    assert progress.waiting_for["portfolio"] == "waits for edm (WAITING)"


def test_a_step_starts_when_its_prerequisite_completed_or_was_skipped() -> None:
    plan = _chain()
    done = StepState(S.COMPLETED, 1, "COMPLETED")
    assert _kinds(plan, {"edm": done}) == ["start:portfolio"]
    assert _kinds(plan, {"edm": StepState(S.SKIPPED)}) == ["start:portfolio"]


def test_a_running_step_follows_its_batch() -> None:
    plan = _chain()
    states = {"edm": StepState(S.RUNNING, 1, "COMPLETED")}
    assert [(a.kind, a.target) for a in advance(plan, states).actions] == [
        ("follow_batch", S.COMPLETED)
    ]
    failed = {"edm": StepState(S.RUNNING, 1, "FAILED")}
    assert advance(plan, failed).actions[0].target is S.FAILED
    # resubmitted jobs reactivate the batch; once it completes the step completes
    reactivated = {"edm": StepState(S.FAILED, 1, "ACTIVE")}
    assert advance(plan, reactivated).actions[0].target is S.RUNNING
    assert advance(plan, {"edm": StepState(S.FAILED, 1, "COMPLETED")}).actions[0].target is (
        S.COMPLETED
    )


def test_a_failed_step_holds_completed_policy_steps_but_not_settled_ones() -> None:
    plan = _chain()
    states = {
        "edm": StepState(S.COMPLETED, 1, "COMPLETED"),
        "portfolio": StepState(S.FAILED, 2, "FAILED"),
    }
    progress = advance(plan, states)
    assert progress.actions == ()
    assert "batch resubmit-failed 2" in progress.waiting_for["portfolio"]
    states["portfolio"] = StepState(S.COMPLETED, 2, "COMPLETED")
    states["analysis"] = StepState(S.FAILED, 3, "FAILED")
    assert _kinds(plan, states) == ["start:grouping"]  # settled: chains on failure too


def test_an_approval_gate_waits_then_starts() -> None:
    plan = _plan(
        {"name": "edm", "batch_type": "edm_creation"},
        {"name": "analysis", "batch_type": "analysis", "after": ["edm"], "approval": True},
    )
    done = StepState(S.COMPLETED, 1, "COMPLETED")
    assert _kinds(plan, {"edm": done}) == ["await_approval:analysis"]
    waiting = {"edm": done, "analysis": StepState(S.AWAITING_APPROVAL)}
    assert _kinds(plan, waiting) == []
    assert "approve" in advance(plan, waiting).waiting_for["analysis"]
    approved = {"edm": done, "analysis": StepState(S.AWAITING_APPROVAL, approved=True)}
    assert _kinds(plan, approved) == ["start:analysis"]


def test_a_checkpoint_completes_on_approval_and_has_no_batch() -> None:
    plan = _plan(
        {"name": "edm", "batch_type": "edm_creation"},
        {"name": "signoff", "checkpoint": True, "after": ["edm"]},
        {"name": "analysis", "batch_type": "analysis", "after": ["signoff"]},
    )
    assert plan.step("signoff").checkpoint
    done = StepState(S.COMPLETED, 1, "COMPLETED")
    assert _kinds(plan, {"edm": done}) == ["await_approval:signoff"]
    approved = {"edm": done, "signoff": StepState(S.AWAITING_APPROVAL, approved=True)}
    assert _kinds(plan, approved) == ["complete_checkpoint:signoff"]


def test_a_step_cut_short_by_a_crash_is_started_again() -> None:
    assert _kinds(_chain(), {"edm": StepState(S.STARTING)}) == ["start:edm"]


def test_until_limits_the_run_to_a_step_and_what_it_needs() -> None:
    plan = _chain()
    done = StepState(S.COMPLETED, 1, "COMPLETED")
    states = {"edm": done, "portfolio": StepState(S.COMPLETED, 2, "COMPLETED")}
    progress = advance(plan, states, until="portfolio")
    assert progress.actions == ()
    assert progress.finished
    assert progress.waiting_for["analysis"] == "outside this run (--until portfolio)"
    assert not advance(plan, states).finished


def test_the_plan_finishes_when_every_step_is_completed_or_skipped() -> None:
    plan = _chain()
    states = {name: StepState(S.COMPLETED, 1, "COMPLETED") for name in ("edm", "portfolio")}
    states["analysis"] = StepState(S.SKIPPED)
    states["grouping"] = StepState(S.COMPLETED, 4, "COMPLETED")
    assert advance(plan, states).finished
    states["grouping"] = StepState(S.FAILED, 4, "FAILED")
    assert not advance(plan, states).finished


def test_a_plan_round_trips_through_its_stored_data() -> None:
    plan = _chain()
    assert parse_plan(plan.as_data(), TYPES) == plan
