"""Diagrams are generated from the tables, deterministically, and the docs are fresh."""

from __future__ import annotations

from pathlib import Path

import pytest

from statemachines.batch import BATCH_LIFECYCLE
from statemachines.diagrams import main, mermaid, render
from statemachines.job import JOB_LIFECYCLE

REPO_ROOT = Path(__file__).resolve().parents[3]
DOC = REPO_ROOT / "docs" / "statemachines.md"


def test_docs_statemachines_md_is_fresh() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/statemachines.md is stale: run `python -m statemachines.diagrams --write`"
    )


def test_render_is_deterministic() -> None:
    assert render() == render()


def test_every_table_row_is_an_edge() -> None:
    text = mermaid(JOB_LIFECYCLE)
    assert text.startswith("stateDiagram-v2\n    [*] --> INITIATED\n")
    for row in JOB_LIFECYCLE.transitions:
        for source in row.sources:
            assert f"    {source} --> {row.dest}: " in text
    assert "    FORCED_OK --> [*]" in text


def test_final_states_are_marked() -> None:
    text = mermaid(BATCH_LIFECYCLE)
    assert "    COMPLETED --> [*]" in text
    assert "    FAILED --> [*]" not in text


def test_main_prints_and_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert capsys.readouterr().out == render()
    target = tmp_path / "sm.md"
    assert main(["--write", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render()
