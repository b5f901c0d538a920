"""Write the sample workbooks (``python -m irpd.samples.build [--out DIR]``).

The same functions build invalid variants for tests: take ``sample_sheets()``, change cells
with ``set_value`` (or anything else), and write them with ``workbook_bytes`` /
``write_workbook``; ``mutate`` gives access to the openpyxl workbook for merges, formulas,
number formats and the like. Output is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from openpyxl import Workbook

from irpd.samples import GENERIC_JOBS_FILE, SAMPLE_CYCLE_FILE
from irpd.samples.cycle_data import GENERIC_JOBS, SAMPLE_CYCLE

Sheets = dict[str, list[list[object]]]
Mutation = Callable[[Workbook], None]

_FIXED_TIME: Final = (2025, 3, 31, 0, 0, 0)
_STAMPS: Final = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def _copy(sheets: Sequence[tuple[str, Sequence[Sequence[object]]]]) -> Sheets:
    return {name: [list(row) for row in rows] for name, rows in sheets}


def sample_sheets() -> Sheets:
    """A fresh, mutable copy of the sample cycle's sheets (row 0 = Excel row 1)."""
    return _copy(SAMPLE_CYCLE)


def generic_sheets() -> Sheets:
    """A fresh, mutable copy of the generic jobs workbook's sheets."""
    return _copy(GENERIC_JOBS)


def set_value(sheets: Sheets, sheet: str, excel_row: int, header: str, value: object) -> None:
    """Set one cell of a table sheet by its Excel row and its header (row 1's label)."""
    rows = sheets[sheet]
    column = rows[0].index(header)
    while len(rows) < excel_row:
        rows.append([])
    row = rows[excel_row - 1]
    row.extend([None] * (column + 1 - len(row)))
    row[column] = value


def workbook_bytes(
    sheets: Mapping[str, Sequence[Sequence[object]]], mutate: Mutation | None = None
) -> bytes:
    """The .xlsx bytes of ``sheets`` (tab order = mapping order), after ``mutate``."""
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    if mutate is not None:
        mutate(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return _reproducible(buffer.getvalue())


def _reproducible(data: bytes) -> bytes:
    """Fix the timestamps openpyxl writes (zip entries, core properties)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _STAMPS.sub(rb"\g<1>2025-03-31T00:00:00Z\g<3>", content)
            target.writestr(
                zipfile.ZipInfo(info.filename, _FIXED_TIME), content, zipfile.ZIP_DEFLATED
            )
    return buffer.getvalue()


def write_workbook(
    path: Path, sheets: Mapping[str, Sequence[Sequence[object]]], mutate: Mutation | None = None
) -> Path:
    path.write_bytes(workbook_bytes(sheets, mutate))
    return path


def build_samples(directory: Path) -> list[Path]:
    """Write both sample workbooks into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    return [
        write_workbook(directory / SAMPLE_CYCLE_FILE, sample_sheets()),
        write_workbook(directory / GENERIC_JOBS_FILE, generic_sheets()),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write irpd's sample workbooks.")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).parent,
        help="target directory (default: the installed irpd/samples)",
    )
    arguments = parser.parse_args(argv)
    for path in build_samples(arguments.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
