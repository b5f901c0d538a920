"""Every problem of a workbook is reported in one pass, grouped by sheet and row."""

from __future__ import annotations

from datetime import date

from openpyxl import Workbook

from irpd.excel import load_workbook
from irpd.excel import names as n
from irpd.samples.build import Sheets, set_value, workbook_bytes


def test_many_errors_on_many_sheets_are_all_listed(sheets: Sheets) -> None:
    sheets[n.METADATA][2][1] = "v22"
    set_value(sheets, n.DATABASES, 3, n.STORE_IN_DATA_BRIDGE, "maybe")
    set_value(sheets, n.PORTFOLIOS, 4, n.DATABASE, "RM_EDM_202503_NONE")
    set_value(sheets, n.TREATIES, 2, n.EXPIRATION_DATE, date(2024, 1, 1))
    set_value(sheets, n.TREATIES, 5, n.PCT_SHARE, 101)
    set_value(sheets, n.ANALYSES, 3, n.PORTFOLIO, "usfl_commercial")
    set_value(sheets, n.ANALYSES, 11, n.TAG_COLUMNS[0], None)
    set_value(sheets, n.GROUPINGS, 5, "Item 1", "USFL_DLM_Groupp")
    set_value(sheets, n.PRODUCTS_PERILS, 12, n.PERIL, None)
    del sheets[n.GEOHAZ_THRESHOLDS]

    def merge(workbook: Workbook) -> None:
        workbook[n.REFERENCE_DATA].merge_cells("C4:C5")

    result = load_workbook(workbook_bytes(sheets, merge), expected_cycle_type=" quarterly ")

    found = [(p.sheet, p.row, p.column, p.code) for p in result.problems]
    assert found == [
        (n.METADATA, 3, n.GEOCODE_VERSION, "FMT-VERSION"),
        (n.DATABASES, 3, n.STORE_IN_DATA_BRIDGE, "FMT-FLAG"),
        (n.PORTFOLIOS, 4, n.DATABASE, "REF-UNKNOWN-DATABASE"),
        (n.TREATIES, 2, n.EXPIRATION_DATE, "BUS-TREATY-DATES"),
        (n.TREATIES, 5, n.PCT_SHARE, "RANGE-PERCENT"),
        (n.GEOHAZ_THRESHOLDS, None, None, "STRUCT-MISSING-SHEET"),
        (n.ANALYSES, 3, n.PORTFOLIO, "REF-UNKNOWN-PORTFOLIO"),
        (n.ANALYSES, 11, n.TAG_COLUMNS[0], "NULL-REQUIRED"),
        (n.GROUPINGS, 5, "Item 1", "REF-UNKNOWN-GROUP-ITEM"),
        (n.PRODUCTS_PERILS, 12, n.PERIL, "NULL-REQUIRED"),
        (n.REFERENCE_DATA, 4, n.EVENT_RATE_SCHEMES, "STRUCT-MERGED"),
    ]
    assert "did you mean 'USFL_Commercial'?" in result.problems[6].message
    assert result.configuration_data is not None
    assert result.configuration_data[n.VALIDATION_KEY] == {
        n.METADATA: "ERROR",
        n.DATABASES: "ERROR",
        n.PORTFOLIOS: "ERROR",
        n.TREATIES: "ERROR",
        n.GEOHAZ_THRESHOLDS: "ABSENT",
        n.ANALYSES: "ERROR",
        n.GROUPINGS: "ERROR",
        n.PRODUCTS_PERILS: "ERROR",
        n.REFERENCE_DATA: "ERROR",
    }


def test_a_broken_reference_target_does_not_cascade(sheets: Sheets) -> None:
    # a treaty whose name is a date is reported once, not again by every analysis naming it
    set_value(sheets, n.TREATIES, 2, n.TREATY_NAME, date(2025, 1, 1))

    codes = [p.code for p in load_workbook(workbook_bytes(sheets)).problems]

    assert codes[0] == "TYPE-TEXT"
    assert set(codes[1:]) <= {"REF-UNKNOWN-TREATY"}
