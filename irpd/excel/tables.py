"""Header rows and table sheets: match headers, convert each row by its column spec."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from openpyxl.utils.cell import get_column_letter, range_boundaries

from irpd.excel.names import header_key
from irpd.excel.problems import Code, ProblemLog
from irpd.excel.reader import CellValue, RawRow, RawSheet, UncachedFormula
from irpd.excel.sheets import Column, TableSpec
from irpd.excel.values import JsonValue, Scalar, coerce, describe, is_blank, json_value


@dataclass(frozen=True, slots=True)
class Header:
    """A sheet's header row: its Excel row number and its non-empty labels by column index."""

    row: int
    labels: dict[int, str]

    def label(self, index: int) -> str:
        """The header of a 0-based column, or its letter when the header cell is empty."""
        return self.labels.get(index) or get_column_letter(index + 1)

    def positions(self) -> dict[str, int]:
        """Matching key -> first column index carrying it."""
        found: dict[str, int] = {}
        for index, label in sorted(self.labels.items()):
            found.setdefault(header_key(label), index)
        return found


@dataclass(frozen=True, slots=True)
class Row:
    """One record: its Excel row number, its JSON values, and the columns whose value is
    unusable (wrong type), which cross-sheet rules skip."""

    number: int
    values: dict[str, Scalar]
    invalid: frozenset[str]

    def get(self, header: str) -> Scalar:
        return None if header in self.invalid else self.values.get(header)

    def text(self, header: str) -> str | None:
        value = self.get(header)
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    header_row: int
    present: frozenset[str]
    rows: tuple[Row, ...]

    def records(self) -> list[JsonValue]:
        return [dict(row.values) for row in self.rows]

    def first_by(self, header: str) -> dict[str, Row]:
        """Text value of ``header`` -> the first row carrying it."""
        found: dict[str, Row] = {}
        for row in self.rows:
            value = row.text(header)
            if value is not None:
                found.setdefault(value, row)
        return found


def header_text(raw: CellValue) -> str | None:
    if isinstance(raw, UncachedFormula) or is_blank(raw):
        return None
    return str(json_value(raw))


def read_header(sheet: RawSheet) -> Header | None:
    """The first non-blank row is the header row; None for a sheet without any."""
    for row in sheet.rows:
        labels = {i: text for i, raw in enumerate(row.cells) if (text := header_text(raw))}
        if labels:
            return Header(row.number, labels)
    return None


def data_rows(sheet: RawSheet, header: Header) -> list[RawRow]:
    """Rows below the header that hold at least one non-blank cell."""
    return [
        row
        for row in sheet.rows
        if row.number > header.row and not all(is_blank(cell) for cell in row.cells)
    ]


def table_width(header: Header, rows: list[RawRow]) -> int:
    """The number of columns that hold a header or any data."""
    return max([max(header.labels) + 1, *(len(row.cells) for row in rows)])


def check_header(
    name: str, header: Header, rows: list[RawRow], columns: Iterable[int], log: ProblemLog
) -> None:
    """Header cells of ``columns`` must be unique, and non-empty above any data."""
    seen: dict[str, str] = {}
    for index in columns:
        label = header.labels.get(index)
        if label is None:
            if any(not is_blank(row.cell(index)) for row in rows):
                log.add(
                    Code.EMPTY_HEADER,
                    f"column {header.label(index)} holds data but has no header",
                    sheet=name,
                    row=header.row,
                    column=header.label(index),
                )
            continue
        key = header_key(label)
        if key in seen:
            log.add(
                Code.DUPLICATE_HEADER,
                f"the header {label!r} appears twice (also as {seen[key]!r})",
                sheet=name,
                row=header.row,
                column=label,
            )
        seen.setdefault(key, label)


def report_merged(name: str, sheet: RawSheet, header: Header | None, log: ProblemLog) -> None:
    """Merged cells are refused: only their top-left cell holds the value."""
    for reference in sheet.merged_ranges:
        min_col, min_row, _, _ = range_boundaries(reference)
        min_col, min_row = min_col or 1, min_row or 1
        where = "header cells" if header and min_row == header.row else "cells"
        log.add(
            Code.MERGED,
            f"merged {where} {reference}: unmerge them and fill every cell",
            sheet=name,
            row=min_row,
            column=header.label(min_col - 1) if header else get_column_letter(min_col),
        )


def convert_cell(
    column: Column, raw: CellValue, where: tuple[str, int], log: ProblemLog
) -> tuple[Scalar, bool]:
    """The JSON value of one cell by its column spec, and whether it is usable."""
    sheet, row = where
    if is_blank(raw):
        if column.required:
            log.add(
                Code.NULL_REQUIRED,
                f"{column.header} is required",
                sheet=sheet,
                row=row,
                column=column.header,
            )
        return None, True
    coerced = coerce(column.kind, raw)
    if coerced.code is not None:
        log.add(coerced.code, coerced.message, sheet=sheet, row=row, column=column.header)
        return coerced.value, False
    value = coerced.value
    if not isinstance(value, str):
        return value, True
    if column.upper:
        value = value.upper()
    if column.choices:
        allowed = {header_key(choice): choice for choice in column.choices}
        if header_key(value) not in allowed:
            log.add(
                column.choice_code,
                f"expected one of {', '.join(column.choices)}, found {describe(raw)}",
                sheet=sheet,
                row=row,
                column=column.header,
            )
            return value, False
        value = allowed[header_key(value)]
    if column.pattern is not None and not column.pattern.fullmatch(value):
        log.add(
            column.pattern_code,
            f"{value!r} is not {column.hint or 'of the form ' + column.pattern.pattern}",
            sheet=sheet,
            row=row,
            column=column.header,
        )
    return value, True


def parse_table(spec: TableSpec, sheet: RawSheet, log: ProblemLog) -> Table:
    """Convert a table sheet: header checks, every cell by its column, uniqueness."""
    header = read_header(sheet)
    report_merged(spec.name, sheet, header, log)
    if header is None:
        log.add(Code.MISSING_HEADER, "the sheet is empty: it has no header row", sheet=spec.name)
        return Table(spec.name, 0, frozenset(), ())
    rows = data_rows(sheet, header)
    check_header(spec.name, header, rows, range(table_width(header, rows)), log)
    positions = header.positions()
    located: dict[str, int] = {}
    for column in spec.columns:
        index = positions.pop(header_key(column.header), None)
        if index is not None:
            located[column.header] = index
        elif column.required:
            log.add(
                Code.MISSING_COLUMN,
                f"the column {column.header!r} is missing",
                sheet=spec.name,
                row=header.row,
                column=column.header,
            )
    extras = {header.labels[index]: index for index in sorted(positions.values())}
    table_rows = tuple(_parse_row(spec, raw, located, extras, log) for raw in rows)
    _check_unique(spec, table_rows, log)
    return Table(spec.name, header.row, frozenset(located), table_rows)


def _parse_row(
    spec: TableSpec,
    raw: RawRow,
    located: dict[str, int],
    extras: dict[str, int],
    log: ProblemLog,
) -> Row:
    values: dict[str, Scalar] = {}
    invalid: set[str] = set()
    for column in spec.columns:
        index = located.get(column.header)
        if index is None:
            values[column.header] = None
            continue
        value, usable = convert_cell(column, raw.cell(index), (spec.name, raw.number), log)
        values[column.header] = value
        if not usable:
            invalid.add(column.header)
    for label, index in extras.items():
        values[label] = json_value(raw.cell(index))
    return Row(raw.number, values, frozenset(invalid))


def _check_unique(spec: TableSpec, rows: tuple[Row, ...], log: ProblemLog) -> None:
    for column in spec.columns:
        if not column.unique:
            continue
        first: dict[Scalar, int] = {}
        for row in rows:
            value = row.get(column.header)
            if value is None:
                continue
            if value in first:
                log.add(
                    Code.UNIQUE_DUPLICATE,
                    f"{column.header} {value!r} already appears on row {first[value]}",
                    sheet=spec.name,
                    row=row.number,
                    column=column.header,
                )
            else:
                first[value] = row.number
