"""Rules across rows and sheets: references, base portfolios, treaty dates, group cycles.

A rule whose input sheet or column is missing is skipped (the missing sheet or column is
already reported), and cells that failed conversion are not checked again.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from irpd.excel import names as n
from irpd.excel.graph import dependency_order
from irpd.excel.groupings import GroupRow
from irpd.excel.metadata import Metadata
from irpd.excel.names import header_key
from irpd.excel.problems import Code, ProblemLog
from irpd.excel.refdata import ReferenceLists
from irpd.excel.tables import Row, Table


@dataclass(frozen=True, slots=True)
class ParsedWorkbook:
    """The converted sheets that are present (None or absent key: sheet missing)."""

    metadata: Metadata | None
    tables: dict[str, Table]
    groups: tuple[GroupRow, ...] | None
    reference: ReferenceLists | None

    def names(self, sheet: str, column: str) -> set[str] | None:
        """The text values of a column, or None when the sheet or column is missing."""
        table = self.tables.get(sheet)
        if table is None or column not in table.present:
            return None
        return {value for row in table.rows if (value := row.text(column)) is not None}

    def group_names(self) -> set[str] | None:
        if self.groups is None:
            return None
        return {row.name for row in self.groups if row.name is not None}


def check_rules(
    parsed: ParsedWorkbook, log: ProblemLog, expected_cycle_type: str | None = None
) -> None:
    _treaty_dates(parsed, log)
    _portfolios(parsed, log)
    _base_portfolios(parsed, log)
    _geohaz(parsed, log)
    _analyses(parsed, log)
    _groupings(parsed, log)
    _products(parsed, log)
    _reference_data(parsed, log)
    _cycle(parsed, log, expected_cycle_type)


def _unknown(what: str, value: str, known: Collection[str], where: str) -> str:
    message = f"{what} {value!r} is not listed in {where}"
    close = [name for name in known if header_key(name) == header_key(value)]
    return f"{message} (did you mean {close[0]!r}?)" if close else message


def _check_ref(
    row: Row,
    column: str,
    known: set[str] | None,
    code: Code,
    place: tuple[str, str],
    *,
    log: ProblemLog,
) -> None:
    """``place`` is (the referencing sheet, the sheet and column that list the names)."""
    value = row.text(column)
    if known is None or value is None or value in known:
        return
    sheet, where = place
    log.add(code, _unknown(column, value, known, where), sheet=sheet, row=row.number, column=column)


def _treaty_dates(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    table = parsed.tables.get(n.TREATIES)
    for row in table.rows if table else ():
        start, end = row.text(n.INCEPTION_DATE), row.text(n.EXPIRATION_DATE)
        if start is not None and end is not None and not start < end:
            log.add(
                Code.BUS_TREATY_DATES,
                f"{n.INCEPTION_DATE} {start} is not before {n.EXPIRATION_DATE} {end}",
                sheet=n.TREATIES,
                row=row.number,
                column=n.EXPIRATION_DATE,
            )


def _portfolios(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    table = parsed.tables.get(n.PORTFOLIOS)
    databases = parsed.names(n.DATABASES, n.DATABASE)
    place = (n.PORTFOLIOS, n.DATABASES)
    for row in table.rows if table else ():
        _check_ref(row, n.DATABASE, databases, Code.REF_UNKNOWN_DATABASE, place, log=log)
        if (
            row.get(n.BASE_PORTFOLIO) == n.YES
            and row.values.get(n.IMPORT_FILE) is None
            and n.IMPORT_FILE not in row.invalid
        ):
            log.add(
                Code.NULL_REQUIRED,
                f"a base portfolio needs an {n.IMPORT_FILE}",
                sheet=n.PORTFOLIOS,
                row=row.number,
                column=n.IMPORT_FILE,
            )


def _base_portfolios(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    databases = parsed.tables.get(n.DATABASES)
    portfolios = parsed.tables.get(n.PORTFOLIOS)
    if (
        databases is None
        or portfolios is None
        or not {n.DATABASE, n.BASE_PORTFOLIO} <= portfolios.present
    ):
        return
    with_base = {
        row.text(n.DATABASE) for row in portfolios.rows if row.get(n.BASE_PORTFOLIO) == n.YES
    }
    for name, row in databases.first_by(n.DATABASE).items():
        if name not in with_base:
            log.add(
                Code.BUS_NO_BASE_PORTFOLIO,
                f"the database {name!r} has no base portfolio in {n.PORTFOLIOS}",
                sheet=n.DATABASES,
                row=row.number,
                column=n.DATABASE,
            )


def _geohaz(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    table = parsed.tables.get(n.GEOHAZ_THRESHOLDS)
    files = parsed.names(n.PORTFOLIOS, n.IMPORT_FILE)
    place = (n.GEOHAZ_THRESHOLDS, f"{n.PORTFOLIOS} {n.IMPORT_FILE}")
    for row in table.rows if table else ():
        _check_ref(row, n.IMPORT_FILE, files, Code.REF_UNKNOWN_IMPORT_FILE, place, log=log)


def _analyses(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    table = parsed.tables.get(n.ANALYSES)
    portfolios = parsed.tables.get(n.PORTFOLIOS)
    databases = parsed.names(n.DATABASES, n.DATABASE)
    portfolio_rows = portfolios.first_by(n.PORTFOLIO) if portfolios else {}
    portfolio_names = parsed.names(n.PORTFOLIOS, n.PORTFOLIO)
    treaties = parsed.names(n.TREATIES, n.TREATY_NAME)
    for row in table.rows if table else ():
        _check_ref(
            row,
            n.DATABASE,
            databases,
            Code.REF_UNKNOWN_DATABASE,
            (n.ANALYSES, n.DATABASES),
            log=log,
        )
        _check_ref(
            row,
            n.PORTFOLIO,
            portfolio_names,
            Code.REF_UNKNOWN_PORTFOLIO,
            (n.ANALYSES, n.PORTFOLIOS),
            log=log,
        )
        for column in n.TREATY_COLUMNS:
            _check_ref(
                row, column, treaties, Code.REF_UNKNOWN_TREATY, (n.ANALYSES, n.TREATIES), log=log
            )
        portfolio = portfolio_rows.get(row.text(n.PORTFOLIO) or "")
        database = row.text(n.DATABASE)
        owner = portfolio.text(n.DATABASE) if portfolio else None
        owner_known = owner is not None and (databases is None or owner in databases)
        if database is not None and owner_known and owner != database:
            log.add(
                Code.REF_PORTFOLIO_DATABASE,
                f"the portfolio {row.text(n.PORTFOLIO)!r} belongs to {owner!r}, not {database!r}",
                sheet=n.ANALYSES,
                row=row.number,
                column=n.PORTFOLIO,
            )


def _groupings(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    if parsed.groups is None:
        return
    analyses = parsed.names(n.ANALYSES, n.ANALYSIS_NAME)
    groups = parsed.group_names() or set()
    edges: dict[str, list[str]] = {}
    first_row: dict[str, int] = {}
    for row in parsed.groups:
        if row.name is None:
            continue
        if analyses is not None and row.name in analyses:
            log.add(
                Code.UNIQUE_NAME_CLASH,
                f"the group {row.name!r} has the name of an analysis",
                sheet=n.GROUPINGS,
                row=row.number,
                column=n.GROUP_NAME,
            )
        if row.name not in edges:
            edges[row.name] = [item.name for item in row.items]
            first_row[row.name] = row.number
        if analyses is not None:
            _check_items(row, analyses | groups, log)
    _, cycles = dependency_order(edges)
    for cycle in cycles:
        first = min(cycle, key=first_row.__getitem__)
        start = cycle.index(first)
        path = [*cycle[start:], *cycle[:start], first]
        log.add(
            Code.BUS_CIRCULAR_GROUP,
            f"groups contain each other: {' -> '.join(path)}",
            sheet=n.GROUPINGS,
            row=first_row[first],
            column=n.GROUP_NAME,
        )


def _check_items(row: GroupRow, known: set[str], log: ProblemLog) -> None:
    for item in row.items:
        if item.name not in known:
            log.add(
                Code.REF_UNKNOWN_GROUP_ITEM,
                _unknown("the item", item.name, known, f"{n.ANALYSES} or {n.GROUPINGS}"),
                sheet=n.GROUPINGS,
                row=row.number,
                column=item.column,
            )


def _products(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    table = parsed.tables.get(n.PRODUCTS_PERILS)
    analyses = parsed.names(n.ANALYSES, n.ANALYSIS_NAME)
    groups = parsed.group_names()
    if table is None or analyses is None or groups is None:
        return
    place = (n.PRODUCTS_PERILS, f"{n.ANALYSES} or {n.GROUPINGS}")
    for row in table.rows:
        _check_ref(
            row, n.ANALYSIS_NAME, analyses | groups, Code.REF_UNKNOWN_ANALYSIS, place, log=log
        )


_REFERENCE_CHECKS = (
    (n.ANALYSIS_PROFILE, n.MODEL_PROFILES, Code.REF_UNKNOWN_MODEL_PROFILE),
    (n.OUTPUT_PROFILE, n.OUTPUT_PROFILES, Code.REF_UNKNOWN_OUTPUT_PROFILE),
    (n.EVENT_RATE, n.EVENT_RATE_SCHEMES, Code.REF_UNKNOWN_EVENT_RATE),
)


def _reference_data(parsed: ParsedWorkbook, log: ProblemLog) -> None:
    table = parsed.tables.get(n.ANALYSES)
    if parsed.reference is None or table is None:
        return
    for column, list_name, code in _REFERENCE_CHECKS:
        if list_name not in parsed.reference:
            continue
        known = set(parsed.reference[list_name])
        place = (n.ANALYSES, f"{n.REFERENCE_DATA} {list_name}")
        for row in table.rows:
            _check_ref(row, column, known, code, place, log=log)


def _cycle(parsed: ParsedWorkbook, log: ProblemLog, expected: str | None) -> None:
    if expected is None or parsed.metadata is None:
        return
    actual = parsed.metadata.text(n.CYCLE_TYPE)
    if actual is not None and header_key(actual) != header_key(expected):
        log.add(
            Code.BUS_CYCLE_MISMATCH,
            f"the workbook is for cycle type {actual!r}, this cycle is {expected!r}",
            sheet=n.METADATA,
            row=parsed.metadata.rows.get(n.CYCLE_TYPE),
            column=n.CYCLE_TYPE,
        )
