"""EDM upkeep batch types: the reinsurance treaties analyses use, and the EDM data upgrade."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from irpd.errors import BatchError
from irpd.excel import names as n
from irpd.transformers.access import (
    JobConfig,
    job,
    metadata,
    required_text,
    sheet_rows,
    text,
    texts,
)

#: Reinsurance Treaties column → job configuration key (the treaty's terms, as in the sheet)
TREATY_FIELDS: Final[Mapping[str, str]] = {
    n.TREATY_NUMBER: "treaty_number",
    n.TREATY_TYPE: "treaty_type",
    n.PER_RISK_LIMIT: "risk_limit",
    n.OCCURRENCE_LIMIT: "occurrence_limit",
    n.ATTACHMENT_POINT: "attachment_point",
    n.INCEPTION_DATE: "inception_date",
    n.EXPIRATION_DATE: "expiration_date",
    n.CURRENCY: "currency",
    n.ATTACHMENT_BASIS: "attachment_basis",
    n.EXPOSURE_LEVEL: "attachment_level",
    n.PCT_COVERED: "pct_covered",
    n.PCT_PLACE: "pct_placed",
    n.PCT_SHARE: "pct_share",
    n.PCT_RETENTION: "pct_retention",
    n.PREMIUM: "premium",
    n.REINSTATEMENTS: "reinstatements",
    n.PCT_REINSTATEMENT_CHARGE: "pct_reinstatement_charge",
    n.AGGREGATE_LIMIT: "aggregate_limit",
    n.AGGREGATE_DEDUCTIBLE: "aggregate_deductible",
    n.INURING_PRIORITY: "priority",
}


def _treaties_by_name(configuration_data: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    rows = sheet_rows(configuration_data, n.TREATIES, "create_reinsurance_treaties")
    return {name: row for row in rows if (name := text(row, n.TREATY_NAME))}


def create_reinsurance_treaties(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per unique (treaty, EDM) pair named in the Analysis Table: create the treaty,
    with its lines of business, in the EDM."""
    meta = metadata(configuration_data, "create_reinsurance_treaties")
    treaties = _treaties_by_name(configuration_data)
    pairs: dict[tuple[str, str], None] = {}
    for index, row in enumerate(
        sheet_rows(configuration_data, n.ANALYSES, "create_reinsurance_treaties")
    ):
        database = required_text(row, n.DATABASE, f"{n.ANALYSES} row {index + 1}")
        for treaty in texts(row, n.TREATY_COLUMNS):
            if treaty not in treaties:
                raise BatchError(
                    f"{n.ANALYSES} row {index + 1} names treaty {treaty!r}, which is not in "
                    f"the {n.TREATIES!r} sheet."
                )
            pairs.setdefault((treaty, database), None)
    jobs: list[JobConfig] = []
    for treaty, database in pairs:
        terms = {key: treaties[treaty].get(column) for column, key in TREATY_FIELDS.items()}
        jobs.append(
            job(
                "create_reinsurance_treaties",
                f"{database}/{treaty}",
                meta,
                database=database,
                treaty_name=treaty,
                **terms,
            )
        )
    return jobs


def edm_db_upgrade(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per Databases row: upgrade the EDM to the workbook's EDM Data Version."""
    meta = metadata(configuration_data, "edm_db_upgrade")
    version = text(meta, n.EDM_DATA_VERSION)
    jobs: list[JobConfig] = []
    for index, row in enumerate(sheet_rows(configuration_data, n.DATABASES, "edm_db_upgrade")):
        database = required_text(row, n.DATABASE, f"{n.DATABASES} row {index + 1}")
        jobs.append(
            job("edm_db_upgrade", database, meta, database=database, edm_data_version=version)
        )
    return jobs
