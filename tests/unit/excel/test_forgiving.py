"""What analysts type by hand is read forgivingly, and the result is plain JSON."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import datetime
from typing import Any

from openpyxl import Workbook

from irpd.excel import WorkbookResult, load_workbook
from irpd.excel import names as n
from irpd.samples.build import Sheets, set_value, workbook_bytes

Load = Callable[..., WorkbookResult]


def _data(result: WorkbookResult) -> dict[str, Any]:
    assert result.problems == [], [p.as_dict() for p in result.problems]
    assert result.configuration_data is not None
    return result.configuration_data


def _row(result: WorkbookResult, sheet: str, excel_row: int) -> dict[str, Any]:
    rows = _data(result)[sheet]
    assert isinstance(rows, list)
    row = rows[excel_row - 2]
    assert isinstance(row, dict)
    return row


def test_the_sample_is_valid_and_json(load: Load, sheets: Sheets) -> None:
    result = load(sheets)

    data = _data(result)
    assert json.loads(json.dumps(result.as_dict()))["ok"] is True
    assert result.kind == "cycle"
    assert set(data[n.VALIDATION_KEY].values()) == {"VALID"}
    assert "Read Me" not in data
    assert len(data[n.ANALYSES]) == 10
    assert data[n.METADATA][n.CURRENT_DATE_VALUE] == "2025-03-31"
    assert data[n.METADATA][n.VALIDATE_HD_VERSIONS] == "N"
    assert data[n.TREATIES][0][n.INCEPTION_DATE] == "2025-01-01"
    assert data[n.GROUPINGS][3] == {
        n.GROUP_NAME: "US_All_Perils",
        n.GROUP_ITEMS: ["USFL_DLM_Group", "USFL_HD_Group", "USEQ_DLM_Group"],
    }
    assert data[n.REFERENCE_DATA][n.OUTPUT_PROFILES] == [
        "Patched Portfolio Level Only (EP, ELT, Stats)",
        "Portfolio and Location Level (EP, ELT, Stats)",
    ]


def test_whitespace_is_trimmed_everywhere(load: Load, sheets: Sheets) -> None:
    sheets[n.ANALYSES][0][2] = "  analysis   NAME "
    sheets[n.METADATA][0][0] = " current date value"
    set_value(sheets, n.DATABASES, 2, n.DATABASE, "  RM_EDM_202503_USFL\t")
    set_value(sheets, n.DATABASES, 2, n.STORE_IN_DATA_BRIDGE, " yes ")
    sheets[" Products and Perils "] = sheets.pop(n.PRODUCTS_PERILS)

    result = load(sheets)

    assert _row(result, n.DATABASES, 2) == {
        n.DATABASE: "RM_EDM_202503_USFL", n.STORE_IN_DATA_BRIDGE: "Y"
    }
    assert _row(result, n.ANALYSES, 2)[n.ANALYSIS_NAME] == "USFL_Base_DLM"
    assert _data(result)[n.METADATA][n.CURRENT_DATE_VALUE] == "2025-03-31"
    assert len(_data(result)[n.PRODUCTS_PERILS]) == 11


def test_numbers_typed_as_text_and_text_typed_as_numbers(load: Load, sheets: Sheets) -> None:
    set_value(sheets, n.TREATIES, 2, n.TREATY_NUMBER, 1001)
    set_value(sheets, n.TREATIES, 2, n.PREMIUM, "1,250,000")
    set_value(sheets, n.TREATIES, 2, n.AGGREGATE_LIMIT, " 2000000.00 ")
    set_value(sheets, n.TREATIES, 2, n.REINSTATEMENTS, 2.0)
    set_value(sheets, n.TREATIES, 2, n.PCT_SHARE, "12.5%")
    set_value(sheets, n.TREATIES, 2, n.PCT_PLACE, "95")
    set_value(sheets, n.TREATIES, 2, n.CURRENCY, "usd")
    set_value(sheets, n.TREATIES, 2, n.TREATY_TYPE, "working EXCESS")
    sheets[n.METADATA][1][1] = 23

    row = _row(load(sheets), n.TREATIES, 2)

    assert row[n.TREATY_NUMBER] == "1001"
    assert row[n.PREMIUM] == 1_250_000
    assert row[n.AGGREGATE_LIMIT] == 2_000_000
    assert row[n.REINSTATEMENTS] == 2
    assert row[n.PCT_SHARE] == 12.5
    assert row[n.PCT_PLACE] == 95
    assert row[n.CURRENCY] == "USD"
    assert row[n.TREATY_TYPE] == n.WORKING_EXCESS


def test_percent_formatted_cells_are_scaled(load: Load, sheets: Sheets) -> None:
    set_value(sheets, n.TREATIES, 3, n.PCT_SHARE, 0.3)

    def percent_format(workbook: Workbook) -> None:
        workbook[n.TREATIES]["N3"].number_format = "0%"

    assert _row(load(sheets, percent_format), n.TREATIES, 3)[n.PCT_SHARE] == 30


def test_iso_text_and_excel_dates_with_times(load: Load, sheets: Sheets) -> None:
    set_value(sheets, n.TREATIES, 2, n.INCEPTION_DATE, "2025-01-01")
    set_value(sheets, n.TREATIES, 2, n.EXPIRATION_DATE, "20260101")
    set_value(sheets, n.TREATIES, 3, n.INCEPTION_DATE, datetime(2025, 1, 1, 13, 30))
    set_value(sheets, n.TREATIES, 3, n.EXPIRATION_DATE, " 2026-01-01 00:00:00 ")

    result = load(sheets)

    for excel_row in (2, 3):
        row = _row(result, n.TREATIES, excel_row)
        assert (row[n.INCEPTION_DATE], row[n.EXPIRATION_DATE]) == ("2025-01-01", "2026-01-01")


def test_flags_accept_yes_no_and_booleans(load: Load, sheets: Sheets) -> None:
    set_value(sheets, n.PORTFOLIOS, 2, n.BASE_PORTFOLIO, "yes")
    set_value(sheets, n.PORTFOLIOS, 3, n.BASE_PORTFOLIO, False)
    set_value(sheets, n.PORTFOLIOS, 5, n.BASE_PORTFOLIO, True)
    set_value(sheets, n.PORTFOLIOS, 6, n.BASE_PORTFOLIO, "n")

    result = load(sheets)

    flags = [_row(result, n.PORTFOLIOS, r)[n.BASE_PORTFOLIO] for r in (2, 3, 5, 6)]
    assert flags == ["Y", "N", "Y", "N"]


def test_empty_rows_extra_columns_and_extra_keys(load: Load, sheets: Sheets) -> None:
    sheets[n.DATABASES][0].append("Owner")
    sheets[n.DATABASES][1].append("cat team")
    sheets[n.DATABASES].insert(2, [None, "   "])
    sheets[n.DATABASES].insert(1, [])
    sheets[n.METADATA].append(["Analyst", "J. Smith", "a note in column C"])
    sheets[n.METADATA].insert(4, [])

    data = _data(load(sheets))

    assert data[n.DATABASES] == [
        {n.DATABASE: "RM_EDM_202503_USFL", n.STORE_IN_DATA_BRIDGE: "Y", "Owner": "cat team"},
        {n.DATABASE: "RM_EDM_202503_USEQ", n.STORE_IN_DATA_BRIDGE: "N", "Owner": None},
    ]
    assert data[n.METADATA]["Analyst"] == "J. Smith"
    assert list(data[n.METADATA])[:2] == [n.CURRENT_DATE_VALUE, n.EDM_DATA_VERSION]


def test_a_title_free_header_may_start_below_empty_rows(load: Load, sheets: Sheets) -> None:
    sheets[n.DATABASES][0:0] = [[], []]

    result = load(sheets)

    assert len(_data(result)[n.DATABASES]) == 2


def test_problem_rows_are_excel_rows_after_blank_rows(load: Load, sheets: Sheets) -> None:
    sheets[n.DATABASES].insert(1, [])
    sheets[n.DATABASES][3][1] = "maybe"  # the USEQ row, now Excel row 4

    problems = load(sheets).problems

    assert [(p.sheet, p.row, p.column, p.code) for p in problems] == [
        (n.DATABASES, 4, n.STORE_IN_DATA_BRIDGE, "FMT-FLAG")
    ]


def test_optional_columns_may_be_left_out(load: Load, sheets: Sheets) -> None:
    keep = [i for i, h in enumerate(sheets[n.ANALYSES][0])
            if h not in (*n.TREATY_COLUMNS, *n.TAG_COLUMNS[1:], n.EVENT_RATE)]
    sheets[n.ANALYSES] = [[row[i] for i in keep] for row in sheets[n.ANALYSES]]

    row = _row(load(sheets), n.ANALYSES, 2)

    assert row[n.EVENT_RATE] is None
    assert row[n.TREATY_COLUMNS[0]] is None
    assert row[n.TAG_COLUMNS[0]] == "USFL"


def test_a_formula_with_a_cached_value_is_read(sheets: Sheets) -> None:
    # what Excel saves: the formula and its value (openpyxl cannot compute, so patch the XML)
    source = workbook_bytes(sheets)
    original = zipfile.ZipFile(io.BytesIO(source))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in original.infolist():
            content = original.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                content = content.replace(
                    b'<c r="B3" t="inlineStr"><is><t>N</t></is></c>',
                    b'<c r="B3" t="str"><f>IF(1,"N","Y")</f><v>N</v></c>',
                )
                assert b"<f>" in content
            target.writestr(info, content)

    result = load_workbook(buffer.getvalue())

    assert _row(result, n.DATABASES, 3)[n.STORE_IN_DATA_BRIDGE] == "N"
