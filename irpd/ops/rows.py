"""Database rows as JSON-able plain values: what every operation returns.

Operations answer the control socket directly, so they return ``dict``/``list`` of JSON
types: timestamps become ISO-8601 strings (with offset), UUIDs strings, intervals seconds.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """One column value as a JSON type."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


#: types that are JSON already: a page of rows is mostly these, so they skip :func:`plain`'s
#: checks (one set lookup per value instead of four isinstance calls; a 500-row page's
#: conversion is the largest step a listing holds the event loop for)
_JSON_TYPES: frozenset[type] = frozenset({str, int, bool, float, type(None), dict, list})


def plain_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as a ``dict`` of JSON types."""
    return {
        key: value if type(value) in _JSON_TYPES else plain(value) for key, value in row.items()
    }


def plain_rows(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows as a list of :func:`plain_row` dicts."""
    return [plain_row(row) for row in rows]
