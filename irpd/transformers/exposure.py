"""Exposure batch types: EDMs, base portfolios, their MRI import and geohaz."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from irpd.errors import BatchError
from irpd.excel import names as n
from irpd.transformers.access import (
    JobConfig,
    is_yes,
    job,
    metadata,
    required_text,
    sheet_rows,
    text,
)

_VERSION: Final = re.compile(r"\s*(\d+)(?:\.(\d+))?")
_DATE: Final = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
_FILE_EXTENSIONS: Final = (".csv", ".txt")


def edm_creation(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per Databases row: create the EDM."""
    meta = metadata(configuration_data, "edm_creation")
    jobs: list[JobConfig] = []
    for index, row in enumerate(sheet_rows(configuration_data, n.DATABASES, "edm_creation")):
        database = required_text(row, n.DATABASE, f"{n.DATABASES} row {index + 1}")
        flag = "Y" if is_yes(row, n.STORE_IN_DATA_BRIDGE) else "N"
        jobs.append(
            job("edm_creation", database, meta, database=database, store_in_data_bridge=flag)
        )
    return jobs


def _base_portfolios(
    configuration_data: Mapping[str, Any], batch_type: str
) -> list[dict[str, str | None]]:
    found: list[dict[str, str | None]] = []
    for index, row in enumerate(sheet_rows(configuration_data, n.PORTFOLIOS, batch_type)):
        if not is_yes(row, n.BASE_PORTFOLIO):
            continue
        where = f"{n.PORTFOLIOS} row {index + 1}"
        found.append(
            {
                "database": required_text(row, n.DATABASE, where),
                "portfolio": required_text(row, n.PORTFOLIO, where),
                "import_file": text(row, n.IMPORT_FILE),
            }
        )
    return found


def portfolio_creation(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per base portfolio: create the portfolio."""
    meta = metadata(configuration_data, "portfolio_creation")
    return [
        job("portfolio_creation", str(base["portfolio"]), meta, **base)
        for base in _base_portfolios(configuration_data, "portfolio_creation")
    ]


def import_file_names(import_file: str, current_date: str) -> tuple[str, str]:
    """The account and location file names of an MRI import:
    ``<Import File>_<YYYYMMDD>_account.csv`` and ``…_location.csv`` (a .csv/.txt extension
    already on the Import File is dropped)."""
    match = _DATE.match(current_date.strip())
    if match is None:
        raise BatchError(f"{n.CURRENT_DATE_VALUE} {current_date!r} is not a date (YYYY-MM-DD).")
    stamp = "".join(match.groups())
    stem = import_file
    for extension in _FILE_EXTENSIONS:
        if stem.casefold().endswith(extension):
            stem = stem[: -len(extension)]
    return f"{stem}_{stamp}_account.csv", f"{stem}_{stamp}_location.csv"


def mri_import(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per base portfolio: MRI import of its account and location files."""
    meta = metadata(configuration_data, "mri_import")
    current_date = required_text(meta, n.CURRENT_DATE_VALUE, n.METADATA)
    jobs: list[JobConfig] = []
    for base in _base_portfolios(configuration_data, "mri_import"):
        import_file = base["import_file"]
        if import_file is None:
            raise BatchError(f"The base portfolio {base['portfolio']!r} has no {n.IMPORT_FILE}.")
        accounts, locations = import_file_names(import_file, current_date)
        jobs.append(
            job(
                "mri_import",
                str(base["portfolio"]),
                meta,
                **base,
                accounts_file=accounts,
                locations_file=locations,
            )
        )
    return jobs


def major_minor(version: str) -> str:
    """``22.0.1`` -> ``22.0``; ``22`` -> ``22.0``."""
    match = _VERSION.match(version)
    if match is None:
        raise BatchError(f"{n.GEOCODE_VERSION} {version!r} is not a version number.")
    return f"{match.group(1)}.{match.group(2) or 0}"


def _thresholds(configuration_data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return sheet_rows(configuration_data, n.GEOHAZ_THRESHOLDS, "geohaz", optional=True)


def geohaz(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per base portfolio: geocode and hazard at the Metadata versions."""
    meta = metadata(configuration_data, "geohaz")
    geocode_version = major_minor(required_text(meta, n.GEOCODE_VERSION, n.METADATA))
    hazard_version = required_text(meta, n.HAZARD_VERSION, n.METADATA)
    thresholds = _thresholds(configuration_data)
    jobs: list[JobConfig] = []
    for base in _base_portfolios(configuration_data, "geohaz"):
        matching = [
            {
                "geocode_level": text(row, n.GEOCODE_LEVEL),
                "percent_of_grand_total": row.get(n.PCT_OF_GRAND_TOTAL),
                "threshold_percent": row.get(n.THRESHOLD_PCT),
            }
            for row in thresholds
            if base["import_file"] is not None and text(row, n.IMPORT_FILE) == base["import_file"]
        ]
        jobs.append(
            job(
                "geohaz",
                str(base["portfolio"]),
                meta,
                **base,
                geocode_version=geocode_version,
                hazard_version=hazard_version,
                thresholds=matching,
            )
        )
    return jobs
