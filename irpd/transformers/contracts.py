"""What a job configuration of each built-in batch type may hold: the check of an override.

A transformer builds job configurations from workbook rows; an operator's override edits one
afterwards. :func:`check_job_configuration` judges the edited configuration by the rules that
judged the row: each field is checked by the workbook column it came from (``irpd.excel.sheets``:
required, pattern, choices, type, through the loader's own ``convert_cell``), and each name
that refers to another sheet must be listed there in the configuration's workbook (the
configuration data the batch was created from), with the workbook's "did you mean" hint.

Problems are ``{"key", "message"}``: one per bad key. Batch types without a contract (the
generic ``default`` and ``multi_job``, plug-ins) get only the checks every type gets:
``batch_type`` unchanged and a non-blank ``job_key``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from irpd.excel import names as n
from irpd.excel import sheets
from irpd.excel.names import header_key
from irpd.excel.problems import Code, ProblemLog
from irpd.excel.sheets import Column
from irpd.excel.tables import convert_cell
from irpd.transformers.treaties import TREATY_FIELDS

Problem = dict[str, str]
#: a configuration's list of known names for a reference (None: cannot be checked)
Known = Callable[[Mapping[str, Any]], set[str] | None]


def _column(spec: sheets.TableSpec, header: str) -> Column:
    return next(c for c in spec.columns if c.header == header)


def _sheet_names(sheet: str, column: str) -> Known:
    def known(data: Mapping[str, Any]) -> set[str] | None:
        rows = data.get(sheet)
        if not isinstance(rows, list):
            return None
        return {
            str(value).strip()
            for row in rows
            if isinstance(row, Mapping) and (value := row.get(column)) not in (None, "")
        }

    return known


def _reference_list(name: str) -> Known:
    def known(data: Mapping[str, Any]) -> set[str] | None:
        lists = data.get(n.REFERENCE_DATA)
        values = lists.get(name) if isinstance(lists, Mapping) else None
        return {str(v) for v in values} if isinstance(values, list) else None

    return known


def _analyses_or_groups(data: Mapping[str, Any]) -> set[str] | None:
    analyses = _sheet_names(n.ANALYSES, n.ANALYSIS_NAME)(data)
    groups = _sheet_names(n.GROUPINGS, n.GROUP_NAME)(data)
    if analyses is None and groups is None:
        return None
    return (analyses or set()) | (groups or set())


def _metadata_value(key: str) -> Known:
    """The one value a Metadata key holds: a batch-wide setting no single job may change."""

    def known(data: Mapping[str, Any]) -> set[str] | None:
        meta = data.get(n.METADATA)
        value = meta.get(key) if isinstance(meta, Mapping) else None
        return None if value in (None, "") else {str(value).strip()}

    return known


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a job configuration."""

    #: the workbook column whose rules judge the value (a list: each item)
    column: Column
    #: ``text`` (one value), ``list`` (of values), ``bool``, ``int``, ``object``, ``any``
    shape: str = "text"
    required: bool = True
    #: the names the value (or each item) must be one of, and where they are listed
    known: Known | None = None
    listed_in: str = ""


def _text(header: str, *, required: bool = True) -> Column:
    return Column(header, required=required)


_DATABASE = Field(
    _column(sheets.DATABASES, n.DATABASE),
    known=_sheet_names(n.DATABASES, n.DATABASE),
    listed_in=n.DATABASES,
)
_PORTFOLIO = Field(
    _column(sheets.PORTFOLIOS, n.PORTFOLIO),
    known=_sheet_names(n.PORTFOLIOS, n.PORTFOLIO),
    listed_in=n.PORTFOLIOS,
)
_IMPORT_FILE = Field(_column(sheets.PORTFOLIOS, n.IMPORT_FILE), required=False)
_CURRENCY = Field(_column(sheets.TREATIES, n.CURRENCY))
_VERSION = Column("version", required=True, pattern=sheets.VERSION_PATTERN, hint="a version")
_METADATA = Field(_text(n.METADATA), shape="object")
_FLAG = Column(
    n.STORE_IN_DATA_BRIDGE, required=True, choices=(n.YES, n.NO), choice_code=Code.FMT_FLAG
)
_NAMED = Field(_text("name"), known=_analyses_or_groups, listed_in=f"{n.ANALYSES} or {n.GROUPINGS}")

_GROUPING: Final = {
    "metadata": _METADATA,
    "group_name": Field(_text(n.GROUP_NAME)),
    "items": Field(
        _text("item"),
        shape="list",
        known=_analyses_or_groups,
        listed_in=f"{n.ANALYSES} or {n.GROUPINGS}",
    ),
    "child_groups": Field(_text("child group"), shape="list", required=False),
    "level": Field(_text("level"), shape="int"),
    "currency": _CURRENCY,
}

CONTRACTS: Final[Mapping[str, Mapping[str, Field]]] = MappingProxyType(
    {
        "edm_creation": {
            "metadata": _METADATA,
            "database": _DATABASE,
            "store_in_data_bridge": Field(_FLAG),
        },
        "portfolio_creation": {
            "metadata": _METADATA,
            "database": _DATABASE,
            "portfolio": Field(_column(sheets.PORTFOLIOS, n.PORTFOLIO)),
            "import_file": _IMPORT_FILE,
        },
        "mri_import": {
            "metadata": _METADATA,
            "database": _DATABASE,
            "portfolio": _PORTFOLIO,
            "import_file": _IMPORT_FILE,
            "accounts_file": Field(_text("accounts_file")),
            "locations_file": Field(_text("locations_file")),
        },
        "geohaz": {
            "metadata": _METADATA,
            "database": _DATABASE,
            "portfolio": _PORTFOLIO,
            "import_file": _IMPORT_FILE,
            "geocode_version": Field(_VERSION),
            "hazard_version": Field(_VERSION),
            "thresholds": Field(_text("thresholds"), shape="list_any", required=False),
        },
        "analysis": {
            "metadata": _METADATA,
            "database": _DATABASE,
            "portfolio": _PORTFOLIO,
            "analysis_name": Field(_column(sheets.ANALYSES, n.ANALYSIS_NAME)),
            "analysis_profile": Field(
                _column(sheets.ANALYSES, n.ANALYSIS_PROFILE),
                known=_reference_list(n.MODEL_PROFILES),
                listed_in=f"{n.REFERENCE_DATA} {n.MODEL_PROFILES}",
            ),
            "output_profile": Field(
                _column(sheets.ANALYSES, n.OUTPUT_PROFILE),
                known=_reference_list(n.OUTPUT_PROFILES),
                listed_in=f"{n.REFERENCE_DATA} {n.OUTPUT_PROFILES}",
            ),
            "event_rate": Field(
                _column(sheets.ANALYSES, n.EVENT_RATE),
                required=False,
                known=_reference_list(n.EVENT_RATE_SCHEMES),
                listed_in=f"{n.REFERENCE_DATA} {n.EVENT_RATE_SCHEMES}",
            ),
            "treaties": Field(
                _text(n.TREATY_NAME),
                shape="list",
                required=False,
                known=_sheet_names(n.TREATIES, n.TREATY_NAME),
                listed_in=n.TREATIES,
            ),
            "tags": Field(_text(n.TAGS), shape="list", required=False),
            "currency": _CURRENCY,
        },
        "create_reinsurance_treaties": {
            "metadata": _METADATA,
            "database": _DATABASE,
            "treaty_name": Field(
                _column(sheets.TREATIES, n.TREATY_NAME),
                known=_sheet_names(n.TREATIES, n.TREATY_NAME),
                listed_in=n.TREATIES,
            ),
            **{
                key: Field(_column(sheets.TREATIES, column), required=False)
                for column, key in TREATY_FIELDS.items()
            },
        },
        "edm_db_upgrade": {
            "metadata": _METADATA,
            "database": _DATABASE,
            "edm_data_version": Field(_VERSION, required=False),
        },
        "grouping": _GROUPING,
        "grouping_rollup": _GROUPING,
        "export_to_rdm": {
            "metadata": _METADATA,
            # every export job of a batch writes into one RDM: a job of its own may not move
            "rdm_name": Field(
                _text(n.EXPORT_RDM_NAME),
                known=_metadata_value(n.EXPORT_RDM_NAME),
                listed_in=f"{n.METADATA} {n.EXPORT_RDM_NAME} (one RDM for every export job "
                "of the batch; name another RDM in a new workbook)",
            ),
            "name": _NAMED,
            "item_type": Field(
                Column("item_type", required=True, choices=("analysis", "group")),
            ),
            "seed": Field(_text("seed"), shape="bool"),
            "database": Field(_text(n.DATABASE, required=False), required=False),
        },
    }
)

COMMON_KEYS: Final = ("batch_type", "job_key")


def _unknown(value: str, known: set[str], listed_in: str) -> str:
    close = [name for name in sorted(known) if header_key(name) == header_key(value)]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{value!r} is not listed in {listed_in}{hint}"


def _cell_problem(field: Field, value: object) -> str | None:
    """What the workbook would say of ``value`` in the field's column, or None."""
    if isinstance(value, dict | list):
        return f"expected text, found a JSON {'object' if isinstance(value, dict) else 'list'}"
    log = ProblemLog(cap=1)
    converted, usable = convert_cell(field.column, value, ("job configuration", 0), log)  # type: ignore[arg-type]
    if log.kept:
        return log.kept[0].message
    return None if usable and converted is not None else f"{field.column.header} is required"


def _value_problem(field: Field, value: object, data: Mapping[str, Any]) -> str | None:
    if field.shape == "object":
        return None if isinstance(value, dict) else "must be a JSON object"
    if field.shape == "bool":
        return None if isinstance(value, bool) else "must be true or false"
    if field.shape == "int":
        ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
        return None if ok else "must be a positive whole number"
    if field.shape == "list_any":
        return None if isinstance(value, list) else "must be a JSON list"
    values = value if field.shape == "list" else [value]
    if not isinstance(values, list):
        return "must be a JSON list of names"
    known = field.known(data) if field.known is not None else None
    for item in values:
        problem = _cell_problem(field, item)
        if problem is None and known is not None and str(item).strip() not in known:
            problem = _unknown(str(item).strip(), known, field.listed_in)
        if problem is not None:
            return problem
    return None


Contract = Mapping[str, Field]


def _portfolio_owner(
    job_configuration: Mapping[str, Any], configuration_data: Mapping[str, Any]
) -> str | None:
    """The workbook's rule REF-PORTFOLIO-DATABASE: a portfolio listed in Portfolios belongs
    to the database listed beside it."""
    portfolio = str(job_configuration.get("portfolio") or "").strip()
    database = str(job_configuration.get("database") or "").strip()
    rows = configuration_data.get(n.PORTFOLIOS)
    for row in rows if isinstance(rows, list) else ():
        if not isinstance(row, Mapping) or str(row.get(n.PORTFOLIO) or "").strip() != portfolio:
            continue
        owner = str(row.get(n.DATABASE) or "").strip()
        if owner and database and owner != database:
            return f"the portfolio {portfolio!r} belongs to {owner!r}, not {database!r}"
        return None
    return None


def check_job_configuration(
    batch_type: str,
    job_configuration: Mapping[str, Any],
    configuration_data: Mapping[str, Any],
    contract: Contract | None = None,
) -> list[Problem]:
    """Every bad key of ``job_configuration`` (a job configuration of ``batch_type`` whose
    batch was created from ``configuration_data``), in key order; empty when it is valid.
    ``contract`` is the batch type's fields (None: only the checks every type gets)."""
    problems: list[Problem] = []
    if job_configuration.get("batch_type") != batch_type:
        problems.append(
            {
                "key": "batch_type",
                "message": f"must stay {batch_type!r} (the batch type of this job's batch)",
            }
        )
    job_key = job_configuration.get("job_key")
    if not isinstance(job_key, str) or not job_key.strip():
        problems.append({"key": "job_key", "message": "must be a non-blank text"})
    if contract is None:
        return problems
    for key, field in contract.items():
        value = job_configuration.get(key)
        if value is None or value in ("", []):
            if field.required:
                problems.append({"key": key, "message": "is required"})
            continue
        problem = _value_problem(field, value, configuration_data)
        if problem is not None:
            problems.append({"key": key, "message": problem})
    bad = {p["key"] for p in problems}
    if {"database", "portfolio"} <= set(contract) and not {"database", "portfolio"} & bad:
        problem = _portfolio_owner(job_configuration, configuration_data)
        if problem is not None:
            problems.append({"key": "portfolio", "message": problem})
    allowed = set(contract) | set(COMMON_KEYS)
    for key in sorted(set(job_configuration) - allowed):
        problems.append(
            {
                "key": key,
                "message": f"is not a field of {batch_type!r} job configurations "
                f"(fields: {', '.join(sorted(contract))})",
            }
        )
    return sorted(problems, key=lambda p: p["key"])
