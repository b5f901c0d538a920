"""The optional Moody's Reference Data sheet: one list of names per column.

Becomes ``{"Model Profiles": [...], "Output Profiles": [...], "Event Rate Schemes": [...]}``;
extra columns are kept as lists too.
"""

from __future__ import annotations

from irpd.excel import names as n
from irpd.excel.names import header_key
from irpd.excel.problems import Code, ProblemLog
from irpd.excel.reader import RawSheet
from irpd.excel.sheets import REFERENCE_LISTS, Column
from irpd.excel.tables import (
    check_header,
    convert_cell,
    data_rows,
    read_header,
    report_merged,
    table_width,
)

ReferenceLists = dict[str, list[str]]


def parse_reference_data(sheet: RawSheet, log: ProblemLog) -> ReferenceLists:
    header = read_header(sheet)
    report_merged(n.REFERENCE_DATA, sheet, header, log)
    if header is None:
        log.add(
            Code.MISSING_HEADER, "the sheet is empty: it has no header row", sheet=n.REFERENCE_DATA
        )
        return {}
    rows = data_rows(sheet, header)
    check_header(n.REFERENCE_DATA, header, rows, range(table_width(header, rows)), log)
    positions = header.positions()
    located: dict[str, int] = {}
    for name in REFERENCE_LISTS:
        index = positions.pop(header_key(name), None)
        if index is None:
            log.add(
                Code.MISSING_COLUMN,
                f"the column {name!r} is missing",
                sheet=n.REFERENCE_DATA,
                row=header.row,
                column=name,
            )
        else:
            located[name] = index
    located.update({header.labels[index]: index for index in sorted(positions.values())})
    lists: ReferenceLists = {}
    for name, index in located.items():
        column = Column(name)
        values: list[str] = []
        for raw in rows:
            value, usable = convert_cell(
                column, raw.cell(index), (n.REFERENCE_DATA, raw.number), log
            )
            if usable and isinstance(value, str):
                values.append(value)
        lists[name] = values
    return lists
