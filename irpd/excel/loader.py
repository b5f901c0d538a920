"""``load_workbook``: a cycle configuration workbook (or a generic one) -> configuration_data.

Never raises on bad input: every problem found is listed at once (up to the cap), each with
its sheet, Excel row, column header and stable code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final, Literal

from irpd.excel import names as n
from irpd.excel.generic import parse_generic_sheet
from irpd.excel.groupings import parse_groupings
from irpd.excel.metadata import parse_metadata
from irpd.excel.names import header_key
from irpd.excel.problems import Code, Problem, ProblemLog
from irpd.excel.reader import (
    RawSheet,
    ReadLimits,
    UnreadableWorkbook,
    WorkbookFile,
    open_workbook,
)
from irpd.excel.refdata import parse_reference_data
from irpd.excel.rules import ParsedWorkbook, check_rules
from irpd.excel.sheets import SHEET_ORDER, TABLES
from irpd.excel.tables import parse_table
from irpd.excel.values import JsonValue

VALID: Final = "VALID"
ERROR: Final = "ERROR"
ABSENT: Final = "ABSENT"

WorkbookKind = Literal["cycle", "generic"]


@dataclass(frozen=True, slots=True)
class WorkbookResult:
    """The loaded configuration and every problem found.

    ``configuration_data`` is None only when the file could not be read as a workbook at all;
    otherwise it is filled even when problems exist, with ``_validation`` naming the sheets in
    error. The workbook is valid exactly when ``problems`` is empty (see ``ok``).
    """

    configuration_data: dict[str, JsonValue] | None
    problems: list[Problem]
    kind: WorkbookKind | None = None

    @property
    def ok(self) -> bool:
        return self.configuration_data is not None and not self.problems

    def as_dict(self) -> dict[str, JsonValue]:
        problems: list[JsonValue] = [dict(problem.as_dict()) for problem in self.problems]
        return {
            "ok": self.ok,
            "kind": self.kind,
            "configuration_data": self.configuration_data,
            "problems": problems,
        }


def load_workbook(
    source: Path | bytes,
    *,
    expected_cycle_type: str | None = None,
    limits: ReadLimits | None = None,
) -> WorkbookResult:
    """Read and validate a workbook from a path or its bytes.

    A workbook with a Metadata sheet is a cycle workbook, checked against the whole contract
    (and, when ``expected_cycle_type`` is given, against Metadata "Cycle Type"). Any other
    workbook is generic: each sheet becomes a list of row objects keyed by header.
    """
    limits = limits or ReadLimits()
    log = ProblemLog(cap=limits.max_problems)
    try:
        with open_workbook(source, limits) as book:
            actual = _sheet_lookup(book.sheet_names)
            if header_key(n.METADATA) in actual:
                data = _load_cycle(book, actual, log, expected_cycle_type)
                kind: WorkbookKind = "cycle"
                order = [name for name, _ in SHEET_ORDER]
            else:
                data = _load_generic(book, log)
                kind = "generic"
                order = book.sheet_names
    except UnreadableWorkbook as exc:
        return WorkbookResult(None, [exc.problem])
    return WorkbookResult(data, log.result(order), kind)


def _sheet_lookup(sheet_names: list[str]) -> dict[str, str]:
    """Matching key -> actual sheet name (an exact spelling wins over a looser one)."""
    found: dict[str, str] = {}
    for name in sheet_names:
        key = header_key(name)
        if key not in found or name.strip() == name:
            found.setdefault(key, name)
    return found


def _read(book: WorkbookFile, name: str, actual: str, log: ProblemLog) -> RawSheet | None:
    try:
        return book.read_sheet(actual)
    except UnreadableWorkbook as exc:
        log.append(replace(exc.problem, sheet=name))
        return None


def _load_cycle(
    book: WorkbookFile, actual: dict[str, str], log: ProblemLog, expected: str | None
) -> dict[str, JsonValue]:
    raws: dict[str, RawSheet] = {}
    present: set[str] = set()
    for name, required in SHEET_ORDER:
        actual_name = actual.get(header_key(name))
        if actual_name is None:
            if required:
                log.add(Code.MISSING_SHEET, f"the sheet {name!r} is missing", sheet=name)
            continue
        present.add(name)
        raw = _read(book, name, actual_name, log)
        if raw is not None:
            raws[name] = raw
    metadata = parse_metadata(raws[n.METADATA], log) if n.METADATA in raws else None
    tables = {
        name: parse_table(spec, raws[name], log) for name, spec in TABLES.items() if name in raws
    }
    groups = parse_groupings(raws[n.GROUPINGS], log) if n.GROUPINGS in raws else None
    reference = (
        parse_reference_data(raws[n.REFERENCE_DATA], log) if n.REFERENCE_DATA in raws else None
    )
    parsed = ParsedWorkbook(metadata, tables, groups, reference)
    check_rules(parsed, log, expected)
    data: dict[str, JsonValue] = {}
    for name, _ in SHEET_ORDER:
        if name in tables:
            data[name] = tables[name].records()
        elif name == n.METADATA and metadata is not None:
            data[name] = dict(metadata.values)
        elif name == n.GROUPINGS and groups is not None:
            data[name] = [row.record() for row in groups]
        elif name == n.REFERENCE_DATA and reference is not None:
            data[name] = {key: list(values) for key, values in reference.items()}
    data[n.VALIDATION_KEY] = {name: _status(name, name in present, log) for name, _ in SHEET_ORDER}
    return data


def _load_generic(book: WorkbookFile, log: ProblemLog) -> dict[str, JsonValue]:
    data: dict[str, JsonValue] = {}
    for name in book.sheet_names:
        raw = _read(book, name, name, log)
        data[name] = parse_generic_sheet(raw, log) if raw is not None else []
    data[n.VALIDATION_KEY] = {name: _status(name, True, log) for name in book.sheet_names}
    return data


def _status(name: str, present: bool, log: ProblemLog) -> str:
    if not present:
        return ABSENT
    return ERROR if name in log.sheets else VALID
