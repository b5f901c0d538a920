"""Argument validation for the operations: pure, run before any database access.

Every validator takes the error class of the calling operation (``BatchError`` for batch
operations, ``JobError`` for job operations ...) so that one argument is refused with the same
message whatever the operation, and with the operation's error type. Messages follow the spec
where it gives them (``Invalid batch_id: -1. Must be a positive integer.``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Final

from irpd.errors import DomainError

#: the largest id PostgreSQL's BIGINT / BIGSERIAL can hold
MAX_ID: Final = 2**63 - 1
#: the length of every ``*_reason_txt`` column
MAX_REASON_LENGTH: Final = 1000
#: how deep job configuration data may nest (deeper is refused, not recursed into)
MAX_JSON_DEPTH: Final = 64
#: how much of a refused value a message repeats
_SHOWN_CHARS: Final = 80

ErrorType = type[DomainError]


def shown(value: object) -> str:
    """``value`` as a message shows it: ``str()``, cut to a readable length."""
    text = str(value)
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "..."


def _type_name(value: object) -> str:
    return type(value).__name__


def positive_id(name: str, value: object, error: ErrorType) -> int:
    """A database id: an ``int`` (not a ``bool``) in ``1 .. 2**63-1``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise error(f"Invalid {name}: {shown(value)}. Must be a positive integer.")
    return value


def optional_id(name: str, value: object, error: ErrorType) -> int | None:
    """``None`` or a :func:`positive_id`."""
    return None if value is None else positive_id(name, value, error)


def optional_bool(name: str, value: object, error: ErrorType) -> bool | None:
    """``None`` (no filter) or a real ``bool``."""
    if value is None or isinstance(value, bool):
        return value
    raise error(f"Invalid {name}: {shown(value)}. Must be true, false or null.")


def choice(name: str, value: object, allowed: Iterable[str], error: ErrorType) -> str:
    """One of ``allowed`` (exact match): ``Invalid status: X. Must be one of [...]``."""
    options = list(allowed)
    if not isinstance(value, str) or value not in options:
        raise error(f"Invalid {name}: {shown(value)}. Must be one of {options}")
    return value


def optional_choice(
    name: str, value: object, allowed: Iterable[str], error: ErrorType
) -> str | None:
    """``None`` (no filter) or a :func:`choice`."""
    return None if value is None else choice(name, value, allowed, error)


#: characters refused in operator-supplied text: C0 controls (newline and tab included), DEL,
#: C1 controls, bidirectional overrides, isolates and marks, and the Unicode line and paragraph
#: separators; any of them could forge or reorder lines of what the text is shown in
_CONTROL: Final = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def control_character(value: str) -> str | None:
    """The first character of ``value`` refused in operator text (as ``U+XXXX``), or None."""
    found = _CONTROL.search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def text(name: str, value: object, error: ErrorType, *, max_length: int) -> str:
    """A non-blank string without control characters, at most ``max_length`` long.

    Control characters are C0 (newline and tab included), DEL, C1, the bidirectional
    controls (U+202A..U+202E, U+2066..U+2069, U+200E, U+200F, U+061C) and U+2028/U+2029.
    Leading and trailing whitespace is removed; the stripped text is returned.
    """
    if not isinstance(value, str):
        raise error(f"Invalid {name}: must be a string, got {_type_name(value)}.")
    stripped = value.strip()
    if not stripped:
        raise error(f"Invalid {name}: must not be blank.")
    if len(stripped) > max_length:
        raise error(
            f"Invalid {name}: {len(stripped)} characters; at most {max_length} are allowed."
        )
    found = control_character(stripped)
    if found is not None:
        raise error(
            f"Invalid {name}: must not contain control characters (found {found}); "
            "use plain text on one line."
        )
    return stripped


def reason(name: str, value: object, error: ErrorType) -> str:
    """A required reason (skip, force-ok, override): :func:`text` of at most 1000 chars."""
    if value is None:
        raise error(f"Invalid {name}: a reason is required.")
    return text(name, value, error, max_length=MAX_REASON_LENGTH)


def optional_reason(name: str, value: object, error: ErrorType) -> str | None:
    """``None`` or a :func:`reason`."""
    return None if value is None else reason(name, value, error)


def progress(name: str, value: object, error: ErrorType) -> int | None:
    """``None`` or a percentage: an ``int`` in ``0 .. 100``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise error(f"Invalid {name}: {shown(value)}. Must be an integer from 0 to 100.")
    return value


def _json_problem(value: object, depth: int) -> str | None:
    """Why ``value`` cannot be stored as JSONB unchanged, or ``None``."""
    if depth > MAX_JSON_DEPTH:
        return f"nested deeper than {MAX_JSON_DEPTH} levels"
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value} is not a JSON number"
    if isinstance(value, str):
        return "strings must not contain NUL characters" if "\x00" in value else None
    if isinstance(value, list):
        return next((p for p in (_json_problem(v, depth + 1) for v in value) if p), None)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"key {shown(key)} is not a string"
            problem = _json_problem(key, depth + 1) or _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"a {_type_name(value)} is not JSON-serialisable"


def json_object(name: str, value: object, error: ErrorType) -> dict[str, Any]:
    """A ``dict`` that PostgreSQL stores as JSONB unchanged (string keys, finite numbers,
    no NUL characters, no tuples/sets/objects)."""
    if not isinstance(value, dict):
        raise error(f"Invalid {name}: must be a JSON object (dict), got {_type_name(value)}.")
    problem = _json_problem(value, 0)
    if problem:
        raise error(f"Invalid {name}: {problem}.")
    return value


def optional_json_object(name: str, value: object, error: ErrorType) -> dict[str, Any] | None:
    """``None`` or a :func:`json_object`."""
    return None if value is None else json_object(name, value, error)


def exactly_one(values: Mapping[str, object], error: ErrorType, message: str | None = None) -> str:
    """The name of the only argument of ``values`` that is not ``None``."""
    given = [name for name, value in values.items() if value is not None]
    if len(given) != 1:
        raise error(message or f"Must provide exactly one of: {' or '.join(values)}")
    return given[0]
