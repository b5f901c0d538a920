"""Hostile and broken inputs: refused quickly with a problem, never an exception."""

from __future__ import annotations

import warnings
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from irpd.excel import ReadLimits, load_workbook
from irpd.excel import names as n
from irpd.samples import sample_bytes, sample_path
from irpd.samples.build import Sheets, generic_sheets, workbook_bytes, write_workbook


def _codes(source: bytes | Path, **kwargs: object) -> list[str]:
    return [p.code for p in load_workbook(source, **kwargs).problems]  # type: ignore[arg-type]


def test_a_path_and_bytes_give_the_same_result() -> None:
    assert load_workbook(sample_path()) == load_workbook(sample_bytes())


def test_a_path_that_cannot_be_read_is_a_problem(tmp_path: Path) -> None:
    result = load_workbook(tmp_path / "missing.xlsx")

    assert result.configuration_data is None
    assert [p.code for p in result.problems] == ["STRUCT-NOT-XLSX"]
    assert "cannot read the file" in result.problems[0].message


def test_an_oversized_path_is_refused_before_reading(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "cycle.xlsx", generic_sheets())

    assert _codes(path, limits=ReadLimits(max_file_bytes=100)) == ["STRUCT-FILE-TOO-LARGE"]


def test_ten_thousand_errors_are_capped_and_counted(sheets: Sheets) -> None:
    template = sheets[n.ANALYSES][1]
    names = [row[2] for row in sheets[n.ANALYSES][1:]]  # still named by groups, products
    names += [f"Analysis_{i}" for i in range(10_000 - len(names))]
    # each row: an unknown database, which is not its portfolio's database either
    sheets[n.ANALYSES][1:] = [
        ["RM_EDM_202503_NONE", template[1], name, *template[3:]] for name in names
    ]

    problems = load_workbook(workbook_bytes(sheets)).problems

    assert len(problems) == 1001
    assert problems[0].code == "REF-UNKNOWN-DATABASE"
    assert (problems[0].sheet, problems[0].row) == (n.ANALYSES, 2)
    summary = problems[-1]
    assert summary.code == "STRUCT-TOO-MANY-PROBLEMS"
    assert summary.message.startswith("19000 more problems")


def test_the_cap_is_configurable(sheets: Sheets) -> None:
    sheets[n.DATABASES][1][1] = "maybe"
    sheets[n.DATABASES][2][1] = "perhaps"

    problems = load_workbook(workbook_bytes(sheets), limits=ReadLimits(max_problems=1)).problems

    assert [p.code for p in problems] == ["FMT-FLAG", "STRUCT-TOO-MANY-PROBLEMS"]
    assert problems[1].message.startswith("1 more problems")


def test_a_value_far_down_a_sheet_is_refused_without_reading_it(sheets: Sheets) -> None:
    def far_away(workbook: Workbook) -> None:
        workbook[n.PORTFOLIOS].cell(row=1_000_000, column=1, value="stray")
        workbook[n.TREATIES].cell(row=3, column=16_000, value="stray")

    result = load_workbook(workbook_bytes(sheets, far_away))

    located = {(p.sheet, p.code) for p in result.problems}
    assert located == {
        (n.PORTFOLIOS, "STRUCT-SHEET-TOO-LARGE"),
        (n.TREATIES, "STRUCT-SHEET-TOO-LARGE"),
    }
    assert result.configuration_data is not None
    assert n.PORTFOLIOS not in result.configuration_data
    assert result.configuration_data[n.VALIDATION_KEY][n.PORTFOLIOS] == "ERROR"  # type: ignore[index,call-overload]


def test_formatted_but_empty_rows_do_not_count(sheets: Sheets) -> None:
    def format_far_rows(workbook: Workbook) -> None:
        sheet = workbook[n.DATABASES]
        for row in range(50_000, 50_010):
            sheet.row_dimensions[row].height = 30

    assert load_workbook(workbook_bytes(sheets, format_far_rows)).ok


def test_chartsheets_are_not_sheets(sheets: Sheets) -> None:
    def add_chart(workbook: Workbook) -> None:
        chartsheet = workbook.create_chartsheet("Chart")
        chart = BarChart()
        data = workbook[n.TREATIES]
        chart.add_data(Reference(data, min_col=4, min_row=1, max_row=7), titles_from_data=True)
        chartsheet.add_chart(chart)

    result = load_workbook(workbook_bytes(sheets, add_chart))

    assert result.ok


def test_openpyxl_warnings_are_silenced_and_filters_restored(sheets: Sheets) -> None:
    def absurd_date(workbook: Workbook) -> None:
        cell = workbook[n.TREATIES]["G2"]
        cell.value = 1e10  # a date serial far beyond year 9999: openpyxl warns
        cell.number_format = "yyyy-mm-dd"

    filters = list(warnings.filters)

    problems = load_workbook(workbook_bytes(sheets, absurd_date)).problems

    assert [(p.sheet, p.row, p.column, p.code) for p in problems] == [
        (n.TREATIES, 2, n.INCEPTION_DATE, "TYPE-CELL-ERROR")
    ]
    assert warnings.filters == filters
