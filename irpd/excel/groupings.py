"""The Groupings sheet: a Group_Name column followed by up to 50 item columns (any header).

Columns left of Group_Name are extra columns, kept by header. Each row becomes
``{"Group_Name": name, "Items": [non-empty item names in column order], <extras>}``.
"""

from __future__ import annotations

from dataclasses import dataclass

from irpd.excel import names as n
from irpd.excel.names import header_key
from irpd.excel.problems import Code, ProblemLog
from irpd.excel.reader import RawRow, RawSheet
from irpd.excel.sheets import Column
from irpd.excel.tables import (
    Header,
    check_header,
    convert_cell,
    data_rows,
    read_header,
    report_merged,
)
from irpd.excel.values import JsonValue, Scalar, json_value

_GROUP_COLUMN = Column(n.GROUP_NAME, required=True, unique=True)


@dataclass(frozen=True, slots=True)
class GroupItem:
    name: str
    column: str


@dataclass(frozen=True, slots=True)
class GroupRow:
    number: int
    name: str | None
    items: tuple[GroupItem, ...]
    extras: dict[str, Scalar]

    def record(self) -> JsonValue:
        return {
            n.GROUP_NAME: self.name,
            n.GROUP_ITEMS: [item.name for item in self.items],
            **self.extras,
        }


def parse_groupings(sheet: RawSheet, log: ProblemLog) -> tuple[GroupRow, ...]:
    header = read_header(sheet)
    report_merged(n.GROUPINGS, sheet, header, log)
    if header is None:
        log.add(Code.MISSING_HEADER, "the sheet is empty: it has no header row", sheet=n.GROUPINGS)
        return ()
    group_index = header.positions().get(header_key(n.GROUP_NAME))
    if group_index is None:
        log.add(
            Code.MISSING_COLUMN,
            f"the column {n.GROUP_NAME!r} is missing",
            sheet=n.GROUPINGS,
            row=header.row,
            column=n.GROUP_NAME,
        )
        return ()
    rows = data_rows(sheet, header)
    check_header(n.GROUPINGS, header, rows, range(group_index + 1), log)
    extras = {header.labels[i]: i for i in sorted(header.labels) if i < group_index}
    parsed = tuple(_parse_row(raw, header, group_index, extras, log) for raw in rows)
    _check_unique_names(parsed, log)
    return parsed


def _parse_row(
    raw: RawRow, header: Header, group_index: int, extras: dict[str, int], log: ProblemLog
) -> GroupRow:
    name, usable = convert_cell(
        _GROUP_COLUMN, raw.cell(group_index), (n.GROUPINGS, raw.number), log
    )
    items: list[GroupItem] = []
    seen: set[str] = set()
    for index in range(group_index + 1, len(raw.cells)):
        label = header.label(index)
        item_column = Column(label)
        value, item_usable = convert_cell(
            item_column, raw.cell(index), (n.GROUPINGS, raw.number), log
        )
        if not isinstance(value, str) or not item_usable:
            continue
        if value in seen:
            log.add(
                Code.UNIQUE_GROUP_ITEM,
                f"the item {value!r} is named twice",
                sheet=n.GROUPINGS,
                row=raw.number,
                column=label,
            )
            continue
        seen.add(value)
        items.append(GroupItem(value, label))
        if len(items) == n.MAX_GROUP_ITEMS + 1:
            log.add(
                Code.TOO_MANY_ITEMS,
                f"a group may name at most {n.MAX_GROUP_ITEMS} items",
                sheet=n.GROUPINGS,
                row=raw.number,
                column=label,
            )
    group_name = name if usable and isinstance(name, str) else None
    if group_name is not None and not items:
        log.add(
            Code.BUS_EMPTY_GROUP,
            f"the group {group_name!r} names no items",
            sheet=n.GROUPINGS,
            row=raw.number,
            column=n.GROUP_NAME,
        )
    extra_values = {label: json_value(raw.cell(index)) for label, index in extras.items()}
    return GroupRow(raw.number, group_name, tuple(items), extra_values)


def _check_unique_names(rows: tuple[GroupRow, ...], log: ProblemLog) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if row.name is None:
            continue
        if row.name in first:
            log.add(
                Code.UNIQUE_DUPLICATE,
                f"{n.GROUP_NAME} {row.name!r} already appears on row {first[row.name]}",
                sheet=n.GROUPINGS,
                row=row.number,
                column=n.GROUP_NAME,
            )
        else:
            first[row.name] = row.number
