"""The Metadata sheet: key/value pairs, keys in column A and values in column B, no header.

Other columns (notes) are ignored. Keys are matched like headers; unknown keys are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

from irpd.excel import names as n
from irpd.excel.names import header_key
from irpd.excel.problems import Code, ProblemLog
from irpd.excel.reader import RawSheet
from irpd.excel.sheets import METADATA_KEYS
from irpd.excel.tables import convert_cell, header_text, report_merged
from irpd.excel.values import Scalar, is_blank, json_value


@dataclass(frozen=True, slots=True)
class Metadata:
    """The Metadata values by key, the Excel row of each key, and the unusable keys."""

    values: dict[str, Scalar]
    rows: dict[str, int]
    invalid: frozenset[str]

    def text(self, key: str) -> str | None:
        value = None if key in self.invalid else self.values.get(key)
        return value if isinstance(value, str) else None


def parse_metadata(sheet: RawSheet, log: ProblemLog) -> Metadata:
    report_merged(n.METADATA, sheet, None, log)
    known = {header_key(column.header): column for column in METADATA_KEYS}
    values: dict[str, Scalar] = {}
    rows: dict[str, int] = {}
    invalid: set[str] = set()
    for raw in sheet.rows:
        key_text = header_text(raw.cell(0))
        value = raw.cell(1)
        if key_text is None:
            if not is_blank(value):
                log.add(
                    Code.NULL_REQUIRED,
                    "a value without a key in column A",
                    sheet=n.METADATA,
                    row=raw.number,
                    column="Key",
                )
            continue
        column = known.get(header_key(key_text))
        key = column.header if column else key_text
        if key in rows:
            log.add(
                Code.UNIQUE_METADATA_KEY,
                f"the key {key!r} already appears on row {rows[key]}",
                sheet=n.METADATA,
                row=raw.number,
                column=key,
            )
            continue
        rows[key] = raw.number
        if column is None:
            values[key] = json_value(value)
            continue
        converted, usable = convert_cell(column, value, (n.METADATA, raw.number), log)
        values[key] = converted
        if not usable:
            invalid.add(key)
    for column in METADATA_KEYS:
        if column.header not in rows:
            log.add(
                Code.MISSING_KEY,
                f"the key {column.header!r} is missing",
                sheet=n.METADATA,
                column=column.header,
            )
            values[column.header] = None
    ordered = {column.header: values.pop(column.header) for column in METADATA_KEYS}
    return Metadata({**ordered, **values}, rows, frozenset(invalid))
