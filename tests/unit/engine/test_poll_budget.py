"""The poll budget reads the tracker's running settings on every call: a SIGHUP's new
``max_polls_per_second`` and ``max_due`` apply at once (it kept copies from start before)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from irpd.engine.poll_budget import PollBudget
from irpd.engine.priority import OperatorActivity


@dataclass(frozen=True)
class Settings:
    max_polls_per_second: float = 1000.0
    ids_per_request: int = 100
    max_due: int = 50_000
    operator_yield: float = 0.25


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_new_settings_apply_at_once() -> None:
    clock = Clock()
    running = Settings()
    budget = PollBudget(lambda: running, clock=clock)
    assert budget.allowed() == 50_000  # nobody active: everything due, up to max_due
    running = replace(running, max_due=20_000)
    assert budget.allowed() == 20_000

    operators = OperatorActivity(clock=clock)
    budget.follow(operators)
    operators.begin()
    clock.now += 1.0
    assert budget.allowed() == 100  # hurried: a tenth of a second of 1,000/s
    running = replace(running, max_polls_per_second=5000.0)
    clock.now += 1.0
    assert budget.allowed() == 500  # the new rate's bucket
