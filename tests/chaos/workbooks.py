"""Hostile workbooks, each built from the shipped sample cycle workbook, and the problem code
the loader must report for it."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl

from irpd.samples import sample_path


def sample_bytes() -> bytes:
    """The shipped sample cycle workbook (valid)."""
    return sample_path().read_bytes()


def _edited(edit: Callable[[Any], None]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(sample_bytes()))
    edit(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def corrupt_zip() -> bytes:
    """The sample cut in half: a damaged package."""
    data = sample_bytes()
    return data[: len(data) // 2]


def not_a_workbook() -> bytes:
    """A CSV file that calls itself .xlsx."""
    return b"Database,Store in Data Bridge?\nRM_EDM_202503_USFL,Y\n"


def huge_sheet() -> bytes:
    """A value in the last row Excel has."""
    return _edited(lambda book: book["Databases"].cell(row=1_048_576, column=1, value="x"))


def formulas() -> bytes:
    """A formula written by a script, never calculated (no saved value)."""

    def edit(book: Any) -> None:
        book["Portfolios"]["A2"] = '=UPPER("usfl_base")'

    return _edited(edit)


def merged_cells() -> bytes:
    """Two cells of a read sheet merged."""
    return _edited(lambda book: book["Databases"].merge_cells("B2:B3"))


def dates_as_text() -> bytes:
    """An ambiguous day/month date typed as text."""

    def edit(book: Any) -> None:
        sheet = book["Reinsurance Treaties"]
        column = [c.value for c in sheet[1]].index("Inception Date") + 1
        sheet.cell(row=2, column=column, value="01/02/2025")

    return _edited(edit)


def ten_thousand_errors() -> bytes:
    """10,000 Analysis Table rows that are wrong in several ways each."""

    def edit(book: Any) -> None:
        sheet = book["Analysis Table"]
        width = sheet.max_column
        for index in range(10_000):
            sheet.append([f"EDM_BAD_{index}", f"nowhere-{index}", *(["#N/A"] * (width - 2))])

    return _edited(edit)


#: (name, builder, problem codes of which the refusal must list one)
HOSTILE_WORKBOOKS: tuple[tuple[str, Callable[[], bytes], tuple[str, ...]], ...] = (
    ("corrupt_zip", corrupt_zip, ("STRUCT-CORRUPT", "STRUCT-NOT-XLSX")),
    ("not_a_workbook", not_a_workbook, ("STRUCT-NOT-XLSX",)),
    ("huge_sheet", huge_sheet, ("STRUCT-SHEET-TOO-LARGE",)),
    ("formulas", formulas, ("TYPE-FORMULA",)),
    ("merged_cells", merged_cells, ("STRUCT-MERGED",)),
    ("dates_as_text", dates_as_text, ("TYPE-DATE",)),
    ("ten_thousand_errors", ten_thousand_errors, ("STRUCT-TOO-MANY-PROBLEMS",)),
)
