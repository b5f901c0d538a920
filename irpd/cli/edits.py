"""Reading an operator's override: ``--override FILE`` (a JSON object) and ``--set KEY=VALUE``.

Both give the changed parameters only; the daemon merges them onto the job's configuration
(``null`` removes a key) unless ``--replace`` says the file is the whole configuration.
``--set`` values are JSON when they parse as JSON (``0.9``, ``true``, ``null``, ``"9"``,
``["a","b"]``) and text otherwise (``--set event_rate=RMS 2023 Long Term Event Rates``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """Bad command-line input (exit 2); the message names what is wrong."""


def read_bytes(path: Path, what: str) -> bytes:
    """The content of ``path``; ``UsageError`` naming the file (and ``what`` it is for)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file ({what})") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory ({what})") from None
    except PermissionError:
        raise UsageError(f"{path}: permission denied ({what})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc} ({what})") from None


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """The JSON object in ``path``; ``UsageError`` naming the file otherwise."""
    try:
        text = read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text ({what})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise UsageError(
            f"{path}: the override must be a JSON object, got a JSON {type(data).__name__}"
        )
    return data


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` items as an object (a later item wins for the same key)."""
    edits: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--set {item!r}: expected KEY=VALUE")
        try:
            edits[key] = json.loads(raw)
        except json.JSONDecodeError:
            edits[key] = raw
    return edits


def override_of(
    override_file: Path | None, settings: Sequence[str] | None, replace: bool
) -> dict[str, Any] | None:
    """The override to send: the file's object with the ``--set`` items on top, or None."""
    if replace and override_file is None:
        raise UsageError("--replace needs --override FILE (the whole job configuration)")
    edits = read_json_object(override_file, "--override") if override_file else None
    if settings:
        edits = {**(edits or {}), **parse_set(settings)}
    return edits
