"""Reading ``configuration_data`` inside transformers, with BatchError for what is missing."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from irpd.errors import BatchError
from irpd.excel import names as n

JobConfig = dict[str, Any]


def _sheets(configuration_data: Mapping[str, Any]) -> list[str]:
    return sorted(key for key in configuration_data if key != n.VALIDATION_KEY)


def sheet_rows(
    configuration_data: Mapping[str, Any], sheet: str, batch_type: str, *, optional: bool = False
) -> list[Mapping[str, Any]]:
    """The row objects of a table sheet."""
    rows = configuration_data.get(sheet)
    if rows is None and optional:
        return []
    if not isinstance(rows, list):
        raise BatchError(
            f"batch_type {batch_type!r} needs the {sheet!r} sheet of a cycle workbook; "
            f"this configuration has {_sheets(configuration_data)}."
        )
    if not all(isinstance(row, Mapping) for row in rows):
        raise BatchError(f"The {sheet!r} sheet of this configuration is not a list of rows.")
    return rows


def metadata(configuration_data: Mapping[str, Any], batch_type: str) -> dict[str, Any]:
    """A deep copy of the Metadata object (each job carries its own)."""
    value = configuration_data.get(n.METADATA)
    if not isinstance(value, Mapping):
        raise BatchError(
            f"batch_type {batch_type!r} needs the {n.METADATA!r} sheet of a cycle workbook; "
            f"this configuration has {_sheets(configuration_data)}."
        )
    return copy.deepcopy(dict(value))


def text(row: Mapping[str, Any], key: str) -> str | None:
    """A cell as trimmed text, or None when empty (numbers are written as text)."""
    return as_text(row.get(key))


def as_text(value: object) -> str | None:
    """A JSON value as trimmed text, or None when empty."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = str(value).strip()
    return result or None


def required_text(row: Mapping[str, Any], key: str, where: str) -> str:
    value = text(row, key)
    if value is None:
        raise BatchError(f"{where} has no {key!r}.")
    return value


def is_yes(row: Mapping[str, Any], key: str) -> bool:
    value = row.get(key)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().casefold() in {"y", "yes"}


def texts(row: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    """The non-empty values of ``keys``, in order."""
    return [value for key in keys if (value := text(row, key)) is not None]


def job(batch_type: str, job_key: str, meta: Mapping[str, Any], **fields: Any) -> JobConfig:
    """A job configuration: its type, key, own copy of the Metadata, and its fields."""
    return {
        "batch_type": batch_type,
        "job_key": job_key,
        "metadata": copy.deepcopy(dict(meta)),
        **fields,
    }
