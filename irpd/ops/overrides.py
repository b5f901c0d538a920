"""Overrides as edits (pure): merge an operator's changed parameters onto a job configuration,
and describe an override as its changes against its parent.

An override is a JSON merge patch (RFC 7396): each key of the edits replaces the parent's
value, an object merges into the parent's object of the same key, ``null`` removes the key.
With ``replace`` the edits are the whole new job configuration instead.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from irpd.errors import JobError
from irpd.ops import validate
from irpd.transformers.contracts import COMMON_KEYS

#: how many changes an override's description lists (the rest are counted)
MAX_CHANGES: Final = 200
#: keys that say which job this is (its batch's type, its key in the batch), not parameters
#: of its analysis: an override never changes them (the console shows them read-only)
FIXED_KEYS: Final = COMMON_KEYS


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """``target`` with ``patch`` applied (RFC 7396); neither argument is changed."""
    merged = copy.deepcopy(dict(target))
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def edited(
    parent: Mapping[str, Any], edits: Mapping[str, Any], *, replace: bool
) -> dict[str, Any]:
    """The new job configuration: ``edits`` merged onto ``parent``, or ``edits`` itself with
    ``replace``; refused when it changes nothing."""
    result = copy.deepcopy(dict(edits)) if replace else merge_patch(parent, edits)
    if result == dict(parent):
        raise JobError(
            "The override changes nothing in the job configuration; resubmit without an "
            "override to run it unchanged."
        )
    return result


def fixed_key_problems(
    parent: Mapping[str, Any], data: Mapping[str, Any]
) -> list[dict[str, str]]:
    """``[{key, message}]`` for each :data:`FIXED_KEYS` key the new configuration changes."""
    return [
        {
            "key": key,
            "message": f"cannot be overridden: it names the job (it stays "
            f"{validate.shown(parent.get(key))})",
        }
        for key in FIXED_KEYS
        if data.get(key) != parent.get(key)
    ]


def check_edit_keys(edits: Mapping[str, Any]) -> None:
    """Keys and text values of the edits are operator text: no control characters."""
    problems = []
    for key, value in edits.items():
        found = validate.control_character(key)
        if found is None and isinstance(value, str):
            found = validate.control_character(value)
        if found is not None:
            problems.append({"key": key, "message": f"contains a control character ({found})"})
    if problems:
        raise OverrideRejectedError(problems)


class OverrideRejectedError(JobError):
    """An override refused key by key; nothing was written. ``problems``: ``[{key, message}]``
    (sent as the error's ``details.problems``)."""

    def __init__(self, problems: list[dict[str, str]], job_id: int | None = None) -> None:
        listed = "; ".join(f"{p['key']}: {p['message']}" for p in problems)
        of_job = f" of job {job_id}" if job_id is not None else ""
        super().__init__(f"Invalid override{of_job}: {listed}")
        self.problems = problems


def changes(parent: Mapping[str, Any], child: Mapping[str, Any]) -> list[dict[str, Any]]:
    """How ``child`` differs from ``parent``: ``[{key, change, old, new}]`` in key order, with
    ``change`` one of ``added``, ``removed``, ``changed``; nested objects by dotted key."""
    found: list[dict[str, Any]] = []
    _diff(parent, child, "", found)
    return found[:MAX_CHANGES]


def _diff(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str, out: list[Any]) -> None:
    for key in sorted(set(old) | set(new), key=str):
        path = f"{prefix}{key}"
        if key not in new:
            out.append({"key": path, "change": "removed", "old": old[key], "new": None})
        elif key not in old:
            out.append({"key": path, "change": "added", "old": None, "new": new[key]})
        elif isinstance(old[key], Mapping) and isinstance(new[key], Mapping):
            _diff(old[key], new[key], f"{path}.", out)
        elif old[key] != new[key]:
            out.append({"key": path, "change": "changed", "old": old[key], "new": new[key]})
