"""Grouping batch types: analysis groups, and roll-ups (groups that contain groups)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from irpd.errors import BatchError
from irpd.excel import names as n
from irpd.excel.graph import dependency_order
from irpd.transformers.access import (
    JobConfig,
    as_text,
    job,
    metadata,
    required_text,
    sheet_rows,
)
from irpd.transformers.analysis import DEFAULT_CURRENCY, analysis_currencies


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    items: tuple[str, ...]
    child_groups: tuple[str, ...]
    #: 1 for a group of analyses, 1 + the deepest child group's level otherwise
    level: int
    currency: str


def read_groups(configuration_data: Mapping[str, Any], batch_type: str) -> list[Group]:
    """The Groupings rows in dependency order (a group after the groups it contains)."""
    items_by_group: dict[str, tuple[str, ...]] = {}
    for index, row in enumerate(sheet_rows(configuration_data, n.GROUPINGS, batch_type)):
        name = required_text(row, n.GROUP_NAME, f"{n.GROUPINGS} row {index + 1}")
        items = row.get(n.GROUP_ITEMS)
        if not isinstance(items, list):
            raise BatchError(f"The group {name!r} has no list of {n.GROUP_ITEMS!r}.")
        names = tuple(value for item in items if (value := as_text(item)))
        items_by_group.setdefault(name, names)
    order, cycles = dependency_order(items_by_group)
    if cycles:
        raise BatchError(f"Groups contain each other: {cycles[0]}.")
    analysis_currency = analysis_currencies(configuration_data)
    groups: dict[str, Group] = {}
    for name in order:
        items = items_by_group[name]
        children = tuple(item for item in items if item in items_by_group)
        level = 1 + max((groups[child].level for child in children), default=0)
        currencies = [
            groups[item].currency if item in groups else analysis_currency.get(item)
            for item in items
        ]
        currency = next((c for c in currencies if c), DEFAULT_CURRENCY)
        groups[name] = Group(name, items, children, level, currency)
    return [groups[name] for name in order]


def _group_jobs(
    configuration_data: Mapping[str, Any], batch_type: str, rollups: bool
) -> list[JobConfig]:
    meta = metadata(configuration_data, batch_type)
    return [
        job(
            batch_type,
            f"group:{group.name}",
            meta,
            group_name=group.name,
            items=list(group.items),
            child_groups=list(group.child_groups),
            level=group.level,
            currency=group.currency,
        )
        for group in read_groups(configuration_data, batch_type)
        if bool(group.child_groups) == rollups
    ]


def grouping(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per Groupings row that names only analyses: create the analysis group."""
    return _group_jobs(configuration_data, "grouping", rollups=False)


def grouping_rollup(configuration_data: Mapping[str, Any]) -> list[JobConfig]:
    """One job per Groupings row that names other groups, children first."""
    return _group_jobs(configuration_data, "grouping_rollup", rollups=True)
