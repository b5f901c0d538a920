"""Fuzz: whatever the cells or bytes hold, the loader answers with data and/or problems."""

from __future__ import annotations

import json
from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irpd.excel import Code, WorkbookResult, load_workbook
from irpd.samples.build import sample_sheets, workbook_bytes

SHEETS = sample_sheets()
SHEET_NAMES = sorted(SHEETS)
SAMPLE = workbook_bytes(SHEETS)
CODES = {code.value for code in Code}

printable = st.characters(blacklist_categories=("Cs", "Cc"))
cell_values = st.one_of(
    st.none(),
    st.text(printable, max_size=30),
    st.sampled_from(["", "  ", "Y", "n", "#N/A", "=1+", "1,000", "12.5%", "2025-02-30",
                     "RM_EDM_202503_USFL", "USFL_Base", "US_All_Perils", "Quota Share"]),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 12, 31)),
)
edits = st.lists(
    st.tuples(st.sampled_from(SHEET_NAMES), st.integers(0, 14), st.integers(0, 25), cell_values),
    min_size=1,
    max_size=8,
)


def _check(result: WorkbookResult) -> None:
    json.dumps(result.as_dict(), allow_nan=False)
    assert result.ok == (not result.problems and result.configuration_data is not None)
    for problem in result.problems:
        assert problem.code in CODES
        assert problem.message


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits)
def test_random_cell_values_give_data_or_problems(
    changes: list[tuple[str, int, int, object]],
) -> None:
    sheets = sample_sheets()
    for sheet, row, column, value in changes:
        rows = sheets[sheet]
        while len(rows) <= row:
            rows.append([])
        rows[row].extend([None] * (column + 1 - len(rows[row])))
        rows[row][column] = value

    result = load_workbook(workbook_bytes(sheets))

    _check(result)
    assert result.configuration_data is not None
    assert result.kind == ("cycle" if "Metadata" in sheets else "generic")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255)),
                min_size=1, max_size=6))
def test_damaged_bytes_give_data_or_problems(damage: list[tuple[int, int]]) -> None:
    data = bytearray(SAMPLE)
    for position, value in damage:
        data[position] = value

    _check(load_workbook(bytes(data)))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_problems(data: bytes) -> None:
    result = load_workbook(data)

    _check(result)
    assert not result.ok
