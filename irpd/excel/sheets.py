"""The workbook contract as data: every sheet's columns, types and per-column rules.

A column is ``required`` when every row must give it a value; such a column must also be in
the header row. A column whose values may be empty may also be left out of the sheet.
Cross-row and cross-sheet rules live in ``rules.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from irpd.excel import names as n
from irpd.excel.problems import Code
from irpd.excel.values import Kind

VERSION_PATTERN: Final = re.compile(r"\d+(\.\d+)?(\.\d+)?")
DATABASE_PATTERN: Final = re.compile(r"(RM_|RMS_|TEST_)EDM_\d{6}_.*")
CURRENCY_PATTERN: Final = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Column:
    """One column (or Metadata key) of the contract."""

    header: str
    kind: Kind = Kind.TEXT
    required: bool = False
    unique: bool = False
    pattern: re.Pattern[str] | None = None
    pattern_code: Code = Code.FMT_VERSION
    #: what a value matching ``pattern`` looks like, for problem messages
    hint: str = ""
    #: allowed values, matched case-insensitively and normalised to this spelling
    choices: tuple[str, ...] = ()
    choice_code: Code = Code.FMT_TREATY_TYPE
    upper: bool = False


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A sheet with a header row and one record per row."""

    name: str
    columns: tuple[Column, ...]
    required: bool = True


def _version(key: str) -> Column:
    return Column(
        key,
        required=True,
        pattern=VERSION_PATTERN,
        pattern_code=Code.FMT_VERSION,
        hint="a version such as 23, 22.0 or 22.0.1",
    )


def _text(header: str, *, required: bool = True, unique: bool = False) -> Column:
    return Column(header, required=required, unique=unique)


def _amount(header: str) -> Column:
    return Column(header, Kind.INTEGER, required=True)


def _percent(header: str) -> Column:
    return Column(header, Kind.PERCENT, required=True)


def _flag(header: str) -> Column:
    return Column(header, Kind.FLAG, required=True)


METADATA_KEYS: Final = (
    Column(n.CURRENT_DATE_VALUE, Kind.DATE, required=True),
    _version(n.EDM_DATA_VERSION),
    _version(n.GEOCODE_VERSION),
    _version(n.HAZARD_VERSION),
    _version(n.DLM_MODEL_VERSION),
    _flag(n.VALIDATE_DLM_VERSIONS),
    _version(n.WILDFIRE_HD_VERSION),
    _version(n.SCS_HD_VERSION),
    _version(n.INLAND_FLOOD_HD_VERSION),
    _flag(n.VALIDATE_HD_VERSIONS),
    _text(n.EXPORT_RDM_NAME),
    _text(n.CYCLE_TYPE),
)

DATABASES: Final = TableSpec(
    n.DATABASES,
    (
        Column(
            n.DATABASE,
            required=True,
            unique=True,
            pattern=DATABASE_PATTERN,
            pattern_code=Code.FMT_DATABASE_NAME,
            hint="an EDM name such as RM_EDM_202503_USFL (RM_, RMS_ or TEST_, EDM_, 6 digits, _)",
        ),
        _flag(n.STORE_IN_DATA_BRIDGE),
    ),
)

PORTFOLIOS: Final = TableSpec(
    n.PORTFOLIOS,
    (
        _text(n.PORTFOLIO, unique=True),
        _text(n.DATABASE),
        # required for base portfolios only: checked in rules.py
        Column(n.IMPORT_FILE),
        _flag(n.BASE_PORTFOLIO),
    ),
)

TREATIES: Final = TableSpec(
    n.TREATIES,
    (
        _text(n.TREATY_NAME, unique=True),
        _text(n.TREATY_NUMBER, unique=True),
        Column(
            n.TREATY_TYPE,
            required=True,
            choices=(n.WORKING_EXCESS, n.QUOTA_SHARE),
            choice_code=Code.FMT_TREATY_TYPE,
        ),
        _amount(n.PER_RISK_LIMIT),
        _amount(n.OCCURRENCE_LIMIT),
        _amount(n.ATTACHMENT_POINT),
        Column(n.INCEPTION_DATE, Kind.DATE, required=True),
        Column(n.EXPIRATION_DATE, Kind.DATE, required=True),
        Column(
            n.CURRENCY,
            required=True,
            pattern=CURRENCY_PATTERN,
            pattern_code=Code.FMT_CURRENCY,
            hint="a three-letter currency code such as USD",
            upper=True,
        ),
        _text(n.ATTACHMENT_BASIS),
        _text(n.EXPOSURE_LEVEL),
        _percent(n.PCT_COVERED),
        _percent(n.PCT_PLACE),
        _percent(n.PCT_SHARE),
        _percent(n.PCT_RETENTION),
        _amount(n.PREMIUM),
        _amount(n.REINSTATEMENTS),
        _percent(n.PCT_REINSTATEMENT_CHARGE),
        _amount(n.AGGREGATE_LIMIT),
        _amount(n.AGGREGATE_DEDUCTIBLE),
        _amount(n.INURING_PRIORITY),
        _text(n.PRODUCER, required=False),
        _text(n.TAGS, required=False),
    ),
)

GEOHAZ_THRESHOLDS: Final = TableSpec(
    n.GEOHAZ_THRESHOLDS,
    (
        _text(n.GEOCODE_LEVEL),
        _text(n.IMPORT_FILE),
        _percent(n.PCT_OF_GRAND_TOTAL),
        _percent(n.THRESHOLD_PCT),
    ),
)

ANALYSES: Final = TableSpec(
    n.ANALYSES,
    (
        _text(n.DATABASE),
        _text(n.PORTFOLIO),
        _text(n.ANALYSIS_NAME, unique=True),
        _text(n.ANALYSIS_PROFILE),
        _text(n.OUTPUT_PROFILE),
        _text(n.EVENT_RATE, required=False),
        *(_text(header, required=False) for header in n.TREATY_COLUMNS),
        _text(n.TAG_COLUMNS[0]),
        *(_text(header, required=False) for header in n.TAG_COLUMNS[1:]),
    ),
)

PRODUCTS_PERILS: Final = TableSpec(
    n.PRODUCTS_PERILS,
    (_text(n.ANALYSIS_NAME), _text(n.PERIL), _text(n.PRODUCT_GROUP)),
)

REFERENCE_LISTS: Final = (n.MODEL_PROFILES, n.OUTPUT_PROFILES, n.EVENT_RATE_SCHEMES)

#: every sheet of the contract in workbook order, with whether it must be present
SHEET_ORDER: Final = (
    (n.METADATA, True),
    (n.DATABASES, True),
    (n.PORTFOLIOS, True),
    (n.TREATIES, True),
    (n.GEOHAZ_THRESHOLDS, True),
    (n.ANALYSES, True),
    (n.GROUPINGS, True),
    (n.PRODUCTS_PERILS, True),
    (n.REFERENCE_DATA, False),
)

TABLES: Final = MappingProxyType(
    {
        spec.name: spec
        for spec in (DATABASES, PORTFOLIOS, TREATIES, GEOHAZ_THRESHOLDS, ANALYSES, PRODUCTS_PERILS)
    }
)
