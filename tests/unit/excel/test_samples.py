"""The shipped sample workbooks: installed, current, and reproducible."""

from __future__ import annotations

from pathlib import Path

import pytest

from irpd.excel import load_workbook
from irpd.excel import names as n
from irpd.samples import (
    DEMO_FAILING_ANALYSIS,
    GENERIC_JOBS_FILE,
    SAMPLE_CYCLE_FILE,
    sample_bytes,
    sample_path,
)
from irpd.samples.build import build_samples, main, sample_sheets, workbook_bytes


@pytest.mark.parametrize("name", [SAMPLE_CYCLE_FILE, GENERIC_JOBS_FILE])
def test_the_committed_samples_match_the_builder(name: str, tmp_path: Path) -> None:
    built = {path.name: path for path in build_samples(tmp_path)}

    assert load_workbook(built[name]) == load_workbook(sample_path(name))
    assert built[name].read_bytes() == sample_bytes(name)


def test_the_build_is_reproducible() -> None:
    assert workbook_bytes(sample_sheets()) == workbook_bytes(sample_sheets())


def test_main_writes_into_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "out")]) == 0

    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        GENERIC_JOBS_FILE, SAMPLE_CYCLE_FILE
    ]
    assert SAMPLE_CYCLE_FILE in capsys.readouterr().out


def test_an_unknown_sample_is_not_found() -> None:
    with pytest.raises(FileNotFoundError):
        sample_path("nothing.xlsx")


def test_the_demo_failure_is_the_third_analysis() -> None:
    data = load_workbook(sample_path()).configuration_data

    assert data is not None
    analyses = data[n.ANALYSES]
    assert isinstance(analyses, list)
    assert analyses[2][n.ANALYSIS_NAME] == DEMO_FAILING_ANALYSIS  # type: ignore[index,call-overload]
