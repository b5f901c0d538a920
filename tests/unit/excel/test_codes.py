"""Every problem code, each triggered by one change to the sample, located precisely."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from irpd.excel import MEANINGS, Code, ReadLimits, load_workbook
from irpd.excel import names as n
from irpd.samples.build import Sheets, sample_sheets, set_value, workbook_bytes

Edit = Callable[[Sheets], None]
Where = tuple[str | None, int | None, str | None]


def _cell(sheet: str, row: int, header: str, value: object) -> Edit:
    return lambda sheets: set_value(sheets, sheet, row, header, value)


def _metadata(key: str, value: object) -> Edit:
    def edit(sheets: Sheets) -> None:
        for row in sheets[n.METADATA]:
            if row[0] == key:
                row[1] = value

    return edit


def _drop_sheet(name: str) -> Edit:
    def edit(sheets: Sheets) -> None:
        del sheets[name]

    return edit


def _drop_metadata_key(key: str) -> Edit:
    def edit(sheets: Sheets) -> None:
        sheets[n.METADATA] = [row for row in sheets[n.METADATA] if row[0] != key]

    return edit


def _drop_column(sheet: str, header: str) -> Edit:
    def edit(sheets: Sheets) -> None:
        index = sheets[sheet][0].index(header)
        for row in sheets[sheet]:
            del row[index]

    return edit


def _headerless_data(sheets: Sheets) -> None:
    sheets[n.DATABASES][0].append(None)
    sheets[n.DATABASES][1].append("stray note")


def _duplicate_header(sheets: Sheets) -> None:
    for row in sheets[n.PRODUCTS_PERILS]:
        row.append(row[1])


def _too_many_items(sheets: Sheets) -> None:
    sheets[n.GROUPINGS][1].extend(f"Extra_{i}" for i in range(51))


def _no_items(sheets: Sheets) -> None:
    sheets[n.GROUPINGS][2][1:] = [None, None, None]


def _merge(workbook: Workbook) -> None:
    workbook[n.DATABASES].merge_cells("B2:B3")


def _formula(workbook: Workbook) -> None:
    workbook[n.ANALYSES]["D2"] = "=UPPER(C2)"


def _error_value(workbook: Workbook) -> None:
    workbook[n.ANALYSES]["E3"] = "#N/A"


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def _damaged_sheet() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes(sample_sheets())))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                content = content[: len(content) // 2]
            target.writestr(info.filename, content)
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    code: Code
    where: Where
    edits: tuple[Edit, ...] = ()
    mutate: Callable[[Workbook], None] | None = None
    raw: Callable[[], bytes] | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)

    def source(self) -> bytes:
        if self.raw is not None:
            return self.raw()
        sheets = sample_sheets()
        for edit in self.edits:
            edit(sheets)
        return workbook_bytes(sheets, self.mutate)


D, P, T, G, A = n.DATABASES, n.PORTFOLIOS, n.TREATIES, n.GEOHAZ_THRESHOLDS, n.ANALYSES
GR, PP, M = n.GROUPINGS, n.PRODUCTS_PERILS, n.METADATA
SAMPLE = workbook_bytes(sample_sheets())

CASES = [
    Case(Code.EMPTY_FILE, (None, None, None), raw=lambda: b""),
    Case(Code.NOT_XLSX, (None, None, None), raw=lambda: b"Database,Portfolio\nRM,USFL\n"),
    Case(Code.NOT_XLSX, (None, None, None), raw=_zip_without_workbook),
    Case(Code.ENCRYPTED_OR_XLS, (None, None, None),
         raw=lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),
    Case(Code.CORRUPT, (None, None, None), raw=lambda: SAMPLE[: len(SAMPLE) // 2]),
    Case(Code.CORRUPT, (D, None, None), raw=_damaged_sheet),
    Case(Code.FILE_TOO_LARGE, (None, None, None), raw=lambda: SAMPLE,
         kwargs={"limits": ReadLimits(max_file_bytes=1000)}),
    Case(Code.FILE_TOO_LARGE, (None, None, None), raw=lambda: SAMPLE,
         kwargs={"limits": ReadLimits(max_uncompressed_bytes=10_000)}),
    Case(Code.SHEET_TOO_LARGE, (PP, None, None), kwargs={"limits": ReadLimits(max_rows=11)}),
    Case(Code.SHEET_TOO_LARGE, (T, None, None), kwargs={"limits": ReadLimits(max_columns=22)}),
    Case(Code.MISSING_SHEET, (D, None, None), edits=(_drop_sheet(D),)),
    Case(Code.MISSING_HEADER, (PP, None, None),
         edits=(lambda s: s.__setitem__(PP, []),)),
    Case(Code.MISSING_COLUMN, (A, 1, n.PORTFOLIO), edits=(_drop_column(A, n.PORTFOLIO),)),
    Case(Code.MISSING_KEY, (M, None, n.HAZARD_VERSION),
         edits=(_drop_metadata_key(n.HAZARD_VERSION),)),
    Case(Code.EMPTY_HEADER, (D, 1, "C"), edits=(_headerless_data,)),
    Case(Code.DUPLICATE_HEADER, (PP, 1, n.PERIL), edits=(_duplicate_header,)),
    Case(Code.MERGED, (D, 2, n.STORE_IN_DATA_BRIDGE), mutate=_merge),
    Case(Code.TOO_MANY_ITEMS, (GR, 2, "AZ"), edits=(_too_many_items,)),
    Case(Code.TYPE_TEXT, (A, 4, n.ANALYSIS_NAME),
         edits=(_cell(A, 4, n.ANALYSIS_NAME, date(2025, 1, 1)),)),
    Case(Code.TYPE_INTEGER, (T, 3, n.PREMIUM), edits=(_cell(T, 3, n.PREMIUM, "lots"),)),
    Case(Code.TYPE_INTEGER, (T, 3, n.PREMIUM), edits=(_cell(T, 3, n.PREMIUM, 10.5),)),
    Case(Code.TYPE_NUMBER, (T, 4, n.PCT_COVERED), edits=(_cell(T, 4, n.PCT_COVERED, "all"),)),
    Case(Code.TYPE_DATE, (T, 2, n.INCEPTION_DATE),
         edits=(_cell(T, 2, n.INCEPTION_DATE, "01/02/2025"),)),
    Case(Code.TYPE_DATE, (M, 1, n.CURRENT_DATE_VALUE),
         edits=(_metadata(n.CURRENT_DATE_VALUE, 45747),)),
    Case(Code.TYPE_FORMULA, (A, 2, n.ANALYSIS_PROFILE), mutate=_formula),
    Case(Code.TYPE_CELL_ERROR, (A, 3, n.OUTPUT_PROFILE), mutate=_error_value),
    Case(Code.NULL_REQUIRED, (D, 3, n.STORE_IN_DATA_BRIDGE),
         edits=(_cell(D, 3, n.STORE_IN_DATA_BRIDGE, None),)),
    Case(Code.NULL_REQUIRED, (P, 2, n.IMPORT_FILE), edits=(_cell(P, 2, n.IMPORT_FILE, "  "),)),
    Case(Code.NULL_REQUIRED, (M, 4, n.HAZARD_VERSION), edits=(_metadata(n.HAZARD_VERSION, ""),)),
    Case(Code.REF_UNKNOWN_DATABASE, (P, 3, n.DATABASE),
         edits=(_cell(P, 3, n.DATABASE, "RM_EDM_202503_XXXX"),)),
    Case(Code.REF_UNKNOWN_DATABASE, (A, 6, n.DATABASE),
         edits=(_cell(A, 6, n.DATABASE, "RM_EDM_202503_XXXX"),)),
    Case(Code.REF_UNKNOWN_PORTFOLIO, (A, 2, n.PORTFOLIO), edits=(_cell(A, 2, n.PORTFOLIO, "X"),)),
    Case(Code.REF_PORTFOLIO_DATABASE, (A, 2, n.PORTFOLIO),
         edits=(_cell(A, 2, n.PORTFOLIO, "USEQ_Base"),)),
    Case(Code.REF_UNKNOWN_TREATY, (A, 3, n.TREATY_COLUMNS[1]),
         edits=(_cell(A, 3, n.TREATY_COLUMNS[1], "No_Such_Treaty"),)),
    Case(Code.REF_UNKNOWN_IMPORT_FILE, (G, 2, n.IMPORT_FILE),
         edits=(_cell(G, 2, n.IMPORT_FILE, "USFL_Other"),)),
    Case(Code.REF_UNKNOWN_GROUP_ITEM, (GR, 3, "Item 2"),
         edits=(_cell(GR, 3, "Item 2", "USFL_Nothing"),)),
    Case(Code.REF_UNKNOWN_ANALYSIS, (PP, 2, n.ANALYSIS_NAME),
         edits=(_cell(PP, 2, n.ANALYSIS_NAME, "Nothing"),)),
    Case(Code.REF_UNKNOWN_MODEL_PROFILE, (A, 2, n.ANALYSIS_PROFILE),
         edits=(_cell(A, 2, n.ANALYSIS_PROFILE, "DLM Nothing"),)),
    Case(Code.REF_UNKNOWN_OUTPUT_PROFILE, (A, 5, n.OUTPUT_PROFILE),
         edits=(_cell(A, 5, n.OUTPUT_PROFILE, "Nothing"),)),
    Case(Code.REF_UNKNOWN_EVENT_RATE, (A, 7, n.EVENT_RATE),
         edits=(_cell(A, 7, n.EVENT_RATE, "Nothing"),)),
    Case(Code.UNIQUE_DUPLICATE, (D, 3, n.DATABASE),
         edits=(_cell(D, 3, n.DATABASE, "RM_EDM_202503_USFL"),)),
    Case(Code.UNIQUE_DUPLICATE, (GR, 3, n.GROUP_NAME),
         edits=(_cell(GR, 3, n.GROUP_NAME, "USFL_DLM_Group"),)),
    Case(Code.UNIQUE_METADATA_KEY, (M, 13, n.CYCLE_TYPE),
         edits=(lambda s: s[M].append([" cycle type ", "Annual"]),)),
    Case(Code.UNIQUE_GROUP_ITEM, (GR, 3, "Item 3"),
         edits=(_cell(GR, 3, "Item 3", "USFL_Base_HD"),)),
    Case(Code.UNIQUE_NAME_CLASH, (GR, 3, n.GROUP_NAME),
         edits=(_cell(GR, 3, n.GROUP_NAME, "USEQ_Base_DLM_LTR"),)),
    Case(Code.RANGE_NEGATIVE, (T, 5, n.PREMIUM), edits=(_cell(T, 5, n.PREMIUM, -5),)),
    Case(Code.RANGE_PERCENT, (T, 6, n.PCT_SHARE), edits=(_cell(T, 6, n.PCT_SHARE, 150),)),
    Case(Code.FMT_DATABASE_NAME, (D, 2, n.DATABASE),
         edits=(_cell(D, 2, n.DATABASE, "EDM_USFL"),)),
    Case(Code.FMT_VERSION, (M, 3, n.GEOCODE_VERSION), edits=(_metadata(n.GEOCODE_VERSION, "v22"),)),
    Case(Code.FMT_FLAG, (D, 2, n.STORE_IN_DATA_BRIDGE),
         edits=(_cell(D, 2, n.STORE_IN_DATA_BRIDGE, "maybe"),)),
    Case(Code.FMT_TREATY_TYPE, (T, 2, n.TREATY_TYPE),
         edits=(_cell(T, 2, n.TREATY_TYPE, "Stop Loss"),)),
    Case(Code.FMT_CURRENCY, (T, 7, n.CURRENCY), edits=(_cell(T, 7, n.CURRENCY, "US Dollars"),)),
    Case(Code.BUS_TREATY_DATES, (T, 2, n.EXPIRATION_DATE),
         edits=(_cell(T, 2, n.EXPIRATION_DATE, date(2024, 6, 30)),)),
    Case(Code.BUS_NO_BASE_PORTFOLIO, (D, 3, n.DATABASE),
         edits=(_cell(P, 5, n.BASE_PORTFOLIO, "N"),)),
    Case(Code.BUS_EMPTY_GROUP, (GR, 3, n.GROUP_NAME), edits=(_no_items,)),
    Case(Code.BUS_CIRCULAR_GROUP, (GR, 2, n.GROUP_NAME),
         edits=(_cell(GR, 2, "Item 3", "US_All_Perils"),)),
    Case(Code.BUS_CYCLE_MISMATCH, (M, 12, n.CYCLE_TYPE), kwargs={"expected_cycle_type": "Annual"}),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.code.value)
def test_each_code_is_reported_where_it_happens(case: Case) -> None:
    result = load_workbook(case.source(), **case.kwargs)

    located = {(p.sheet, p.row, p.column) for p in result.problems if p.code == case.code}
    assert case.where in located, [p.as_dict() for p in result.problems]
    assert not result.ok


def test_the_cases_cover_every_code() -> None:
    # the cap summary is covered by test_limits.py
    assert {case.code for case in CASES} | {Code.TOO_MANY_PROBLEMS} == set(Code)


def test_every_code_has_a_meaning_and_is_documented() -> None:
    document = (Path(__file__).parents[3] / "docs" / "workbook.md").read_text()
    for code in Code:
        assert MEANINGS[code]
        assert f"`{code.value}`" in document, code


def test_a_file_that_is_no_workbook_has_no_configuration_data() -> None:
    result = load_workbook(b"")

    assert result.configuration_data is None
    assert result.kind is None
    assert [p.code for p in result.problems] == ["STRUCT-EMPTY-FILE"]


def test_a_missing_sheet_is_absent_and_the_rest_still_load(sheets: Sheets) -> None:
    del sheets[n.GEOHAZ_THRESHOLDS]
    result = load_workbook(workbook_bytes(sheets))

    assert result.configuration_data is not None
    assert n.GEOHAZ_THRESHOLDS not in result.configuration_data
    validation = result.configuration_data[n.VALIDATION_KEY]
    assert isinstance(validation, dict)
    assert validation[n.GEOHAZ_THRESHOLDS] == "ABSENT"
    assert validation[n.ANALYSES] == "VALID"
    assert [p.code for p in result.problems] == ["STRUCT-MISSING-SHEET"]


def test_the_optional_reference_sheet_may_be_absent(sheets: Sheets) -> None:
    del sheets[n.REFERENCE_DATA]
    result = load_workbook(workbook_bytes(sheets))

    assert result.ok
    assert result.configuration_data is not None
    validation = result.configuration_data[n.VALIDATION_KEY]
    assert isinstance(validation, dict)
    assert validation[n.REFERENCE_DATA] == "ABSENT"


def test_a_sheet_in_error_is_marked_and_others_stay_valid(sheets: Sheets) -> None:
    set_value(sheets, T, 2, n.PREMIUM, "lots")
    result = load_workbook(workbook_bytes(sheets))

    assert result.configuration_data is not None
    validation = result.configuration_data[n.VALIDATION_KEY]
    assert isinstance(validation, dict)
    assert validation[T] == "ERROR"
    assert {status for sheet, status in validation.items() if sheet != T} == {"VALID"}
