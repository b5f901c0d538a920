"""One vocabulary of Moody's statuses: statemachines.moodys, imported by the client, the
engine (through the job machine) and the fake server, never spelled again."""

from __future__ import annotations

import ast
from pathlib import Path

from irpd.moodys import models
from irpd.moodys.fake import timeline
from statemachines.job import MOODYS_REPORTED_STATUSES, MOODYS_TERMINAL_STATUSES, JobStatus
from statemachines.moodys import (
    MOODYS_ACTIVE_STATUSES,
    MOODYS_STATUSES,
    MoodysStatus,
)
from statemachines.moodys import (
    MOODYS_TERMINAL_STATUSES as MOODYS_TERMINAL,
)

ROOT = Path(__file__).resolve().parents[3]
SPELLED = {status.value for status in MoodysStatus}


def test_the_active_and_terminal_statuses_partition_it() -> None:
    assert set(MOODYS_STATUSES) == MOODYS_ACTIVE_STATUSES | MOODYS_TERMINAL
    assert not MOODYS_ACTIVE_STATUSES & MOODYS_TERMINAL


def test_the_job_machine_client_and_fake_use_it() -> None:
    assert [s.value for s in MOODYS_REPORTED_STATUSES] == [s.value for s in MOODYS_STATUSES]
    assert {s.value for s in MOODYS_TERMINAL_STATUSES} == {s.value for s in MOODYS_TERMINAL}
    assert all(JobStatus(s.value) for s in MoodysStatus)
    assert models.KNOWN_STATUSES == SPELLED
    assert {s.value for s in MOODYS_TERMINAL} == models.TERMINAL_STATUSES
    assert set(timeline.STATUSES) == SPELLED
    assert timeline.TERMINAL == models.TERMINAL_STATUSES


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and node.value in SPELLED
        and id(node) not in docstrings
    ]


def test_no_module_of_the_client_or_fake_spells_a_status() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for package in ("irpd/moodys",)
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, value in _literals(path)
    ]
    assert found == [], "import the status from statemachines.moodys instead:\n" + "\n".join(found)
