"""Generic workbooks (no Metadata sheet): every sheet is a list of row objects."""

from __future__ import annotations

from datetime import date

from openpyxl import Workbook

from irpd.excel import load_workbook
from irpd.samples import GENERIC_JOBS_FILE, sample_path
from irpd.samples.build import Sheets, generic_sheets, workbook_bytes


def test_the_generic_sample_loads_as_rows() -> None:
    result = load_workbook(sample_path(GENERIC_JOBS_FILE))

    assert result.ok
    assert result.kind == "generic"
    data = result.configuration_data
    assert data is not None
    assert data["_validation"] == {"jobs": "VALID"}
    jobs = data["jobs"]
    assert isinstance(jobs, list)
    assert len(jobs) == 5
    assert jobs[0] == {
        "job_key": "refresh-usfl",
        "operation": "refresh",
        "target": "RM_EDM_202503_USFL",
        "priority": 1,
        "notes": "nightly refresh",
    }


def test_values_keep_their_type_and_empty_sheets_are_empty_lists() -> None:
    sheets: Sheets = {
        " settings ": [[" name ", "value", "when"], [" alpha ", 1.5, date(2025, 3, 31)],
                       [None, None, None], ["beta", True, None]],
        "empty": [],
    }

    data = load_workbook(workbook_bytes(sheets)).configuration_data

    assert data == {
        " settings ": [
            {"name": "alpha", "value": 1.5, "when": "2025-03-31"},
            {"name": "beta", "value": True, "when": None},
        ],
        "empty": [],
        "_validation": {" settings ": "VALID", "empty": "VALID"},
    }


def test_only_well_formedness_is_checked() -> None:
    sheets = generic_sheets()
    sheets["jobs"][0][3] = "operation"  # duplicate header
    sheets["jobs"][1].append("no header above")
    sheets["other"] = [["a"], [1]]

    def damage(workbook: Workbook) -> None:
        workbook["jobs"]["B3"] = "=A3"
        workbook["jobs"]["C4"] = "#REF!"
        workbook["jobs"].merge_cells("A5:B5")

    result = load_workbook(workbook_bytes(sheets, damage))

    assert [(p.sheet, p.row, p.column, p.code) for p in result.problems] == [
        ("jobs", 1, "operation", "STRUCT-DUPLICATE-HEADER"),
        ("jobs", 1, "F", "STRUCT-EMPTY-HEADER"),
        ("jobs", 3, "operation", "TYPE-FORMULA"),
        ("jobs", 4, "target", "TYPE-CELL-ERROR"),
        ("jobs", 5, "job_key", "STRUCT-MERGED"),
    ]
    assert result.configuration_data is not None
    assert result.configuration_data["_validation"] == {"jobs": "ERROR", "other": "VALID"}
