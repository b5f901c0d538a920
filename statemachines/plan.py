"""Cycle plans: a cycle's steps as data, and the pure rule that advances them.

A plan is a graph of steps. Each step is a batch type (or a manual ``checkpoint``) with the
steps it comes ``after``, a policy saying when it may start (``completed``: every
prerequisite COMPLETED; ``settled``: every prerequisite COMPLETED or FAILED, as the replaced
system chained analysis and roll-up), and whether an operator must ``approve`` it first.

:func:`parse_plan` turns the plan file's data into a :class:`Plan` and reports every problem at
once (unknown batch types, unknown prerequisites, cycles). :func:`advance` is the runner's
brain: from the steps' current state it returns what to do next, with no I/O, so the daemon's
plan runner only carries the decisions out. A SKIPPED step (no work in this workbook) counts
as COMPLETED for the steps after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from statemachines.lifecycle import Lifecycle, Transition

StartWhen = Literal["completed", "settled"]
START_WHEN: tuple[StartWhen, ...] = ("completed", "settled")
_STEP_KEYS = frozenset(
    {"name", "stage", "batch_type", "checkpoint", "after", "start_when", "approval", "description"}
)
_PLAN_KEYS = frozenset({"name", "description", "step"})


class PlanStatus(StrEnum):
    """Where a cycle's plan stands: the runner advances RUNNING plans only."""

    RUNNING = "RUNNING"
    PAUSED = "PAUSED"  # by an operator, or by the runner when the stored plan no longer parses
    COMPLETED = "COMPLETED"  # every step up to ``until_step`` done


PLAN_TRANSITIONS: tuple[Transition[PlanStatus], ...] = (
    Transition("pause", (PlanStatus.RUNNING,), PlanStatus.PAUSED),
    Transition("resume", (PlanStatus.PAUSED,), PlanStatus.RUNNING),
    Transition("complete", (PlanStatus.RUNNING,), PlanStatus.COMPLETED),
    # ``cycle run`` again: a paused or completed plan runs (possibly further, ``--until``)
    Transition(
        "extend", (PlanStatus.RUNNING, PlanStatus.PAUSED, PlanStatus.COMPLETED), PlanStatus.RUNNING
    ),
)

PLAN_LIFECYCLE: Lifecycle[PlanStatus] = Lifecycle(
    entity="Plan",
    states=PlanStatus,
    initial=PlanStatus.RUNNING,
    final=frozenset(),
    transitions=PLAN_TRANSITIONS,
)


def plan_move(trigger: str) -> tuple[tuple[PlanStatus, ...], PlanStatus]:
    """``(expected statuses, target)`` of a plan's compare-and-set for ``trigger``, read
    from the machine's tables (every trigger has one destination)."""
    sources = PLAN_LIFECYCLE.allowed_from[trigger]
    return sources, PLAN_LIFECYCLE.lookup[(sources[0], trigger)]


class StepStatus(StrEnum):
    """Where one step of a cycle's plan stands."""

    WAITING = "WAITING"  # prerequisites not met yet
    AWAITING_APPROVAL = "AWAITING_APPROVAL"  # met; an operator must approve
    STARTING = "STARTING"  # the runner is creating/submitting its batch (crash-safe marker)
    RUNNING = "RUNNING"  # its batch is INITIATED or ACTIVE
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"  # its batch FAILED or was CANCELLED: waits for the operator
    SKIPPED = "SKIPPED"  # no work for this step in this cycle's workbook


#: statuses after which the steps that follow may start
DONE_STEP_STATUSES = frozenset({StepStatus.COMPLETED, StepStatus.SKIPPED})
#: the status of a started step follows its batch's
STEP_STATUS_OF_BATCH: Mapping[str, StepStatus] = {
    "INITIATED": StepStatus.RUNNING,
    "ACTIVE": StepStatus.RUNNING,
    "COMPLETED": StepStatus.COMPLETED,
    "FAILED": StepStatus.FAILED,
    "CANCELLED": StepStatus.FAILED,
}


class PlanError(ValueError):
    """A plan that cannot run; ``problems`` lists every reason, each naming its step."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid plan: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class PlanStep:
    """One step: a batch type (or a checkpoint) with its prerequisites and policy."""

    name: str
    stage: str
    batch_type: str | None  # None: a manual checkpoint, completed by approval
    after: tuple[str, ...] = ()
    start_when: StartWhen = "completed"
    approval: bool = False
    description: str = ""

    @property
    def checkpoint(self) -> bool:
        return self.batch_type is None

    def as_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "stage": self.stage}
        if self.batch_type is None:
            data["checkpoint"] = True
        else:
            data["batch_type"] = self.batch_type
        data.update(after=list(self.after), start_when=self.start_when, approval=self.approval)
        if self.description:
            data["description"] = self.description
        return data


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated plan: steps in a dependency order (every step after its prerequisites)."""

    name: str
    steps: tuple[PlanStep, ...]
    description: str = ""
    _by_name: Mapping[str, PlanStep] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {step.name: step for step in self.steps})

    def step(self, name: str) -> PlanStep:
        return self._by_name[name]

    def has_step(self, name: str) -> bool:
        return name in self._by_name

    def scope(self, until: str | None) -> frozenset[str]:
        """The steps a run ``--until STEP`` covers: that step and everything it needs."""
        if until is None:
            return frozenset(self._by_name)
        wanted: set[str] = set()
        pending = [until]
        while pending:
            name = pending.pop()
            if name not in wanted:
                wanted.add(name)
                pending.extend(self._by_name[name].after)
        return frozenset(wanted)

    def as_data(self) -> dict[str, Any]:
        """The plan as the plan file's data (what a cycle's run stores)."""
        data: dict[str, Any] = {"name": self.name, "step": [s.as_data() for s in self.steps]}
        if self.description:
            data["description"] = self.description
        return data


def _text(where: str, key: str, value: Any, problems: list[str], *, required: bool) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{where}: '{key}' must be a non-empty string")
        return ""
    return value.strip()


def _names(where: str, value: Any, problems: list[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        problems.append(f"{where}: 'after' must be a list of step names")
        return ()
    return tuple(value)


def _parse_step(index: int, raw: Any, problems: list[str]) -> PlanStep | None:
    if not isinstance(raw, Mapping):
        problems.append(f"step {index + 1}: must be a table")
        return None
    name = _text(f"step {index + 1}", "name", raw.get("name"), problems, required=True)
    where = f"step '{name}'" if name else f"step {index + 1}"
    for key in sorted(set(raw) - _STEP_KEYS):
        problems.append(f"{where}: unknown key '{key}' (known: {', '.join(sorted(_STEP_KEYS))})")
    checkpoint = raw.get("checkpoint", False)
    if not isinstance(checkpoint, bool):
        problems.append(f"{where}: 'checkpoint' must be true or false")
        checkpoint = False
    batch_type: str | None = None
    if checkpoint:
        if "batch_type" in raw:
            problems.append(f"{where}: a checkpoint has no 'batch_type'")
    else:
        batch_type = _text(where, "batch_type", raw.get("batch_type"), problems, required=True)
    start_when = raw.get("start_when", "completed")
    if start_when not in START_WHEN:
        problems.append(f"{where}: 'start_when' must be one of {', '.join(START_WHEN)}")
        start_when = "completed"
    approval = raw.get("approval", False)
    if not isinstance(approval, bool):
        problems.append(f"{where}: 'approval' must be true or false")
        approval = False
    return PlanStep(
        name=name,
        stage=_text(where, "stage", raw.get("stage"), problems, required=False) or "main",
        batch_type=batch_type,
        after=_names(where, raw.get("after"), problems),
        start_when=start_when,
        approval=approval,
        description=_text(where, "description", raw.get("description"), problems, required=False),
    )


def _ordered(steps: list[PlanStep], problems: list[str]) -> tuple[PlanStep, ...]:
    """Steps in dependency order (stable: file order among equals); reports cycles."""
    by_name = {s.name: s for s in steps}
    placed: dict[str, None] = {}
    remaining = list(steps)
    while remaining:
        ready = [s for s in remaining if all(p in placed for p in s.after if p in by_name)]
        if not ready:
            names = ", ".join(f"'{s.name}'" for s in remaining)
            problems.append(f"steps {names} wait for each other (a cycle in 'after')")
            return tuple(steps)
        for step in ready:
            placed[step.name] = None
        remaining = [s for s in remaining if s.name not in placed]
    return tuple(by_name[name] for name in placed)


def parse_plan(data: Mapping[str, Any], batch_types: Iterable[str]) -> Plan:
    """A :class:`Plan` from a plan file's data; :class:`PlanError` lists every problem."""
    problems: list[str] = []
    for key in sorted(set(data) - _PLAN_KEYS):
        problems.append(f"plan: unknown key '{key}' (known: {', '.join(sorted(_PLAN_KEYS))})")
    name = _text("plan", "name", data.get("name"), problems, required=True)
    raw_steps = data.get("step")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise PlanError([*problems, "plan: needs at least one [[step]]"])
    steps = [s for i, raw in enumerate(raw_steps) if (s := _parse_step(i, raw, problems))]
    known_types = set(batch_types)
    seen: set[str] = set()
    typed: dict[str, str] = {}
    for step in steps:
        if step.name in seen:
            problems.append(f"step '{step.name}': defined twice")
        seen.add(step.name)
        if step.batch_type and step.batch_type in typed:
            problems.append(
                f"step '{step.name}': batch type '{step.batch_type}' is already step "
                f"'{typed[step.batch_type]}' (one live batch per type and configuration)"
            )
        elif step.batch_type:
            typed[step.batch_type] = step.name
        if step.batch_type and step.batch_type not in known_types:
            problems.append(
                f"step '{step.name}': unknown batch type '{step.batch_type}' "
                f"(registered: {', '.join(sorted(known_types))})"
            )
        for prerequisite in step.after:
            if prerequisite == step.name:
                problems.append(f"step '{step.name}': cannot come after itself")
            elif prerequisite not in {s.name for s in steps}:
                problems.append(f"step '{step.name}': 'after' names unknown step '{prerequisite}'")
    ordered = _ordered(steps, problems)
    if problems:
        raise PlanError(problems)
    description = data.get("description")
    return Plan(name, ordered, description if isinstance(description, str) else "")


# --- advancing a plan -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StepState:
    """What the runner knows of one step: its recorded status, its batch's, its approval."""

    status: StepStatus = StepStatus.WAITING
    batch_id: int | None = None
    batch_status: str | None = None
    approved: bool = False


ActionKind = Literal["start", "await_approval", "complete_checkpoint", "follow_batch"]


@dataclass(frozen=True, slots=True)
class Action:
    """One thing the runner must do for one step.

    ``start``: create and submit the step's batch (``STARTING`` → ``RUNNING``);
    ``await_approval``: record that the step waits for an operator; ``complete_checkpoint``:
    an approved checkpoint is done; ``follow_batch``: the step's status becomes ``target``
    because its batch's status changed.
    """

    kind: ActionKind
    step: str
    target: StepStatus


@dataclass(frozen=True, slots=True)
class Progress:
    """The runner's decisions for one pass, and whether the plan is finished."""

    actions: tuple[Action, ...]
    finished: bool
    waiting_for: Mapping[str, str]  # step → what it waits for, in words (for `cycle status`)


def _prerequisites_met(step: PlanStep, states: Mapping[str, StepState]) -> bool:
    ok = set(DONE_STEP_STATUSES)
    if step.start_when == "settled":
        ok.add(StepStatus.FAILED)
    return all(states.get(p, StepState()).status in ok for p in step.after)


def _waits_for(step: PlanStep, states: Mapping[str, StepState]) -> str:
    blocking = [
        f"{p} ({states.get(p, StepState()).status})"
        for p in step.after
        if states.get(p, StepState()).status not in DONE_STEP_STATUSES
    ]
    return "waits for " + ", ".join(blocking)


def _follow(name: str, state: StepState) -> Action | None:
    if state.batch_status is None:
        return None
    target = STEP_STATUS_OF_BATCH.get(state.batch_status)
    if target is None or target is state.status:
        return None
    return Action("follow_batch", name, target)


def _decide(step: PlanStep, state: StepState, states: Mapping[str, StepState]) -> Action | None:
    if state.status in (StepStatus.RUNNING, StepStatus.FAILED, StepStatus.COMPLETED):
        return _follow(step.name, state) if step.batch_type else None
    if state.status is StepStatus.STARTING:
        return Action("start", step.name, StepStatus.RUNNING)  # finish what a crash cut short
    if state.status is StepStatus.SKIPPED or not _prerequisites_met(step, states):
        return None
    if step.approval or step.checkpoint:
        if not state.approved:
            if state.status is StepStatus.AWAITING_APPROVAL:
                return None
            return Action("await_approval", step.name, StepStatus.AWAITING_APPROVAL)
        if step.checkpoint:
            return Action("complete_checkpoint", step.name, StepStatus.COMPLETED)
    return Action("start", step.name, StepStatus.RUNNING)


def _describe(step: PlanStep, state: StepState, states: Mapping[str, StepState]) -> str:
    status = state.status
    if status is StepStatus.AWAITING_APPROVAL:
        return f"an operator's approval (irpctl cycle approve CYCLE {step.name})"
    if status is StepStatus.FAILED:
        return (
            f"an operator: batch {state.batch_id} is {state.batch_status}; resubmit its FAILED "
            f"and ERROR jobs (irpctl batch resubmit-failed {state.batch_id}) or skip them, and "
            "the plan resumes once it reconciles"
        )
    if status is StepStatus.RUNNING:
        return f"batch {state.batch_id} ({state.batch_status})"
    if status is StepStatus.WAITING and not _prerequisites_met(step, states):
        return _waits_for(step, states)
    return ""


def advance(
    plan: Plan, states: Mapping[str, StepState], until: str | None = None
) -> Progress:
    """What the runner does next for a plan whose steps are in ``states`` (missing: WAITING).

    Steps outside ``--until``'s scope are left alone. The plan is finished when every step in
    scope is COMPLETED or SKIPPED. Pure and total: the same states always give the same
    decisions, so a runner that crashed and restarts simply decides again.
    """
    scope = plan.scope(until)
    actions: list[Action] = []
    waiting: dict[str, str] = {}
    for step in plan.steps:
        if step.name not in scope:
            waiting[step.name] = f"outside this run (--until {until})"
            continue
        state = states.get(step.name, StepState())
        action = _decide(step, state, states)
        if action is not None:
            actions.append(action)
        described = _describe(step, state, states)
        if described:
            waiting[step.name] = described
    finished = all(
        states.get(name, StepState()).status in DONE_STEP_STATUSES for name in scope
    )
    return Progress(tuple(actions), finished, waiting)
