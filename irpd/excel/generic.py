"""Generic workbooks (no Metadata sheet): every sheet becomes a list of row objects.

Only well-formedness is checked: a header row, unique non-empty header cells above data,
no merged cells, and no cells whose value is an Excel error or an uncalculated formula.
An empty sheet becomes an empty list.
"""

from __future__ import annotations

from irpd.excel.problems import Code, ProblemLog
from irpd.excel.reader import CellError, RawSheet, UncachedFormula
from irpd.excel.tables import (
    Header,
    check_header,
    data_rows,
    read_header,
    report_merged,
    table_width,
)
from irpd.excel.values import UNCACHED_FORMULA_MESSAGE, JsonValue, json_value


def parse_generic_sheet(sheet: RawSheet, log: ProblemLog) -> list[JsonValue]:
    header = read_header(sheet)
    report_merged(sheet.name, sheet, header, log)
    if header is None:
        return []
    rows = data_rows(sheet, header)
    check_header(sheet.name, header, rows, range(table_width(header, rows)), log)
    columns = {header.labels[index]: index for index in sorted(header.positions().values())}
    records: list[JsonValue] = []
    for raw in rows:
        record: dict[str, JsonValue] = {}
        for label, index in columns.items():
            value = raw.cell(index)
            _report_bad_cell(sheet.name, header, (raw.number, index), value, log)
            record[label] = None if isinstance(value, UncachedFormula) else json_value(value)
        records.append(record)
    return records


def _report_bad_cell(
    name: str, header: Header, position: tuple[int, int], value: object, log: ProblemLog
) -> None:
    row, index = position
    if isinstance(value, UncachedFormula):
        log.add(
            Code.TYPE_FORMULA,
            UNCACHED_FORMULA_MESSAGE,
            sheet=name,
            row=row,
            column=header.label(index),
        )
    elif isinstance(value, CellError):
        log.add(
            Code.TYPE_CELL_ERROR,
            f"the cell holds the error {value.text}",
            sheet=name,
            row=row,
            column=header.label(index),
        )
