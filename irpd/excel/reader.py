"""openpyxl -> raw rows: open a workbook safely and read one sheet's cells within limits.

Every way a file can fail to be a readable workbook becomes :class:`UnreadableWorkbook`
carrying a ``STRUCT-*`` problem; nothing here raises anything else on bad input.
"""

from __future__ import annotations

import io
import threading
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Final

from openpyxl import load_workbook as openpyxl_load
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from irpd.excel.problems import Code, Problem
from irpd.excel.xmlscan import PackageError, SheetScan, scan_sheet, worksheet_parts

_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC: Final = b"PK"


@dataclass(frozen=True, slots=True)
class ReadLimits:
    """Bounds that keep a hostile or mistaken upload from exhausting memory or time."""

    max_file_bytes: int = 50_000_000
    max_uncompressed_bytes: int = 500_000_000
    max_rows: int = 20_000
    max_columns: int = 100
    max_problems: int = 1000


@dataclass(frozen=True, slots=True)
class CellError:
    """An Excel error value such as ``#N/A``."""

    text: str


@dataclass(frozen=True, slots=True)
class UncachedFormula:
    """A formula cell saved without its computed value."""


@dataclass(frozen=True, slots=True)
class PercentNumber:
    """A number shown with a % format: 0.5 is displayed (and meant) as 50%."""

    fraction: float


CellValue = (
    str
    | int
    | float
    | bool
    | datetime
    | date
    | time
    | timedelta
    | CellError
    | UncachedFormula
    | PercentNumber
    | None
)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One non-empty row: its 1-based Excel row number and its cells from column A."""

    number: int
    cells: tuple[CellValue, ...]

    def cell(self, index: int) -> CellValue:
        return self.cells[index] if index < len(self.cells) else None


@dataclass(frozen=True, slots=True)
class RawSheet:
    name: str
    rows: tuple[RawRow, ...]
    merged_ranges: tuple[str, ...]


class UnreadableWorkbook(Exception):
    """The file is not a readable workbook; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _unreadable(code: Code, message: str, sheet: str | None = None) -> UnreadableWorkbook:
    return UnreadableWorkbook(Problem(sheet, None, None, str(code), message))


def _source_bytes(source: Path | bytes, limits: ReadLimits) -> bytes:
    if isinstance(source, bytes):
        data = source
    else:
        try:
            if source.stat().st_size > limits.max_file_bytes:
                raise _unreadable(Code.FILE_TOO_LARGE, _too_large_file(limits))
            data = source.read_bytes()
        except OSError as exc:
            raise _unreadable(Code.NOT_XLSX, f"cannot read the file: {exc.strerror}") from exc
    if not data:
        raise _unreadable(Code.EMPTY_FILE, "the file is empty")
    if len(data) > limits.max_file_bytes:
        raise _unreadable(Code.FILE_TOO_LARGE, _too_large_file(limits))
    if data.startswith(_OLE_MAGIC):
        raise _unreadable(
            Code.ENCRYPTED_OR_XLS,
            "the file is a legacy .xls workbook or a password-protected .xlsx; "
            "save it as an unprotected .xlsx workbook",
        )
    if not data.startswith(_ZIP_MAGIC):
        raise _unreadable(Code.NOT_XLSX, "the file is not an .xlsx workbook (not a zip package)")
    return data


def _too_large_file(limits: ReadLimits) -> str:
    return f"the file is larger than the limit of {limits.max_file_bytes} bytes"


def _open_archive(data: bytes, limits: ReadLimits) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, NotImplementedError (bad version), struct errors…
        raise _unreadable(Code.CORRUPT, f"the .xlsx package is damaged: {exc}") from exc
    if sum(info.file_size for info in archive.infolist()) > limits.max_uncompressed_bytes:
        archive.close()
        raise _unreadable(
            Code.FILE_TOO_LARGE,
            f"the workbook's content exceeds {limits.max_uncompressed_bytes} bytes uncompressed",
        )
    return archive


#: openpyxl warns about what it drops (data validation extensions, odd date serials…); those
#: are silenced while a workbook is read. ``warnings.catch_warnings`` swaps process-wide state,
#: so concurrent reads (``asyncio.to_thread``) are serialised to keep the filters intact.
_QUIET_OPENPYXL = threading.Lock()


@contextmanager
def open_workbook(source: Path | bytes, limits: ReadLimits) -> Iterator[WorkbookFile]:
    """Open a workbook for reading, with openpyxl's warnings silenced; closes it after."""
    with _QUIET_OPENPYXL, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = WorkbookFile(source, limits)
        try:
            yield book
        finally:
            book.close()


class WorkbookFile:
    """An open workbook: its worksheet names, and one sheet's raw rows on demand."""

    def __init__(self, source: Path | bytes, limits: ReadLimits) -> None:
        data = _source_bytes(source, limits)
        self.limits = limits
        self._archive = _open_archive(data, limits)
        try:
            self._parts = worksheet_parts(self._archive)
            self._book: Workbook = openpyxl_load(io.BytesIO(data), read_only=True, data_only=True)
        except (PackageError, InvalidFileException, KeyError) as exc:
            self._archive.close()
            raise _unreadable(
                Code.NOT_XLSX, f"the file is a zip package but not an .xlsx workbook: {exc}"
            ) from exc
        except Exception as exc:  # openpyxl raises many types on damaged parts
            self._archive.close()
            raise _unreadable(Code.CORRUPT, f"the workbook cannot be read: {exc}") from exc

    def close(self) -> None:
        self._book.close()
        self._archive.close()

    @property
    def sheet_names(self) -> list[str]:
        """Worksheet names in workbook order (chartsheets are not listed)."""
        return [name for name in self._book.sheetnames if name in self._parts]

    def read_sheet(self, name: str) -> RawSheet:
        """The sheet's non-empty rows; raises UnreadableWorkbook (sheet-level) on limits."""
        limits = self.limits
        try:
            scan = scan_sheet(self._archive, self._parts[name], limits.max_rows, limits.max_columns)
            if scan.overflow:
                raise _unreadable(
                    Code.SHEET_TOO_LARGE, f"the sheet holds data at {scan.overflow}", name
                )
            rows = tuple(self._rows(name, scan))
        except UnreadableWorkbook:
            raise
        except Exception as exc:  # damaged sheet XML, bad shared-string index, zlib errors
            raise _unreadable(Code.CORRUPT, f"the sheet cannot be read: {exc}", name) from exc
        return RawSheet(name, rows, scan.merged_ranges)

    def _rows(self, name: str, scan: SheetScan) -> Iterator[RawRow]:
        if scan.last_row == 0:
            return
        sheet = self._book[name]
        assert isinstance(sheet, ReadOnlyWorksheet)
        rows = sheet.iter_rows(min_row=1, max_row=scan.last_row, max_col=scan.last_column)
        for number, cells in enumerate(rows, start=1):
            values = tuple(
                _cell_value(cell, (number, column), scan)
                for column, cell in enumerate(cells, start=1)
            )
            if any(value is not None for value in values):
                yield RawRow(number, _trim_trailing(values))


def _trim_trailing(values: tuple[CellValue, ...]) -> tuple[CellValue, ...]:
    end = len(values)
    while end and values[end - 1] is None:
        end -= 1
    return values[:end]


def _cell_value(cell: object, position: tuple[int, int], scan: SheetScan) -> CellValue:
    if position in scan.uncached_formulas:
        return UncachedFormula()
    value = getattr(cell, "value", None)
    if value is None:
        return None
    if getattr(cell, "data_type", "n") == "e":
        return CellError(str(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        number_format = getattr(cell, "number_format", None) or ""
        if "%" in number_format:
            return PercentNumber(float(value))
    if isinstance(value, str | int | float | bool | datetime | date | time | timedelta):
        return value
    return str(value)


__all__ = [
    "CellError",
    "CellValue",
    "PercentNumber",
    "RawRow",
    "RawSheet",
    "ReadLimits",
    "UncachedFormula",
    "UnreadableWorkbook",
    "WorkbookFile",
    "open_workbook",
]
