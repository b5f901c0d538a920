"""The export_to_rdm batch type: every analysis and group into one RDM."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irpd.excel import names as n
from irpd.transformers.access import JobConfig, job, metadata, required_text, sheet_rows, text
from irpd.transformers.groups import read_groups


def export_to_rdm(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per analysis, then per group; the first (seed) job creates the RDM."""
    meta = metadata(configuration_data, "export_to_rdm")
    rdm_name = required_text(meta, n.EXPORT_RDM_NAME, n.METADATA)
    database_of: dict[str, str | None] = {}
    entries: list[tuple[str, str, str]] = []
    for row in sheet_rows(configuration_data, n.ANALYSES, "export_to_rdm"):
        name = text(row, n.ANALYSIS_NAME)
        if name is not None and name not in database_of:
            database_of[name] = text(row, n.DATABASE)
            entries.append((name, "analysis", name))
    if n.GROUPINGS in configuration_data:
        for group in read_groups(configuration_data, "export_to_rdm"):
            database_of[group.name] = next(
                (db for item in group.items if (db := database_of.get(item))), None
            )
            entries.append((group.name, "group", f"group:{group.name}"))
    return [
        job(
            "export_to_rdm",
            key,
            meta,
            rdm_name=rdm_name,
            name=name,
            item_type=item_type,
            seed=index == 0,
            database=database_of.get(name),
        )
        for index, (name, item_type, key) in enumerate(entries)
    ]
