"""Splice stored JSON text into a response without parsing and re-encoding it.

A workflow's ``jobs[].input`` is the submitted body. Parsing 1,000 bodies just to encode
them again doubled the cost of a batched ``ids=`` lookup, so routes put a :class:`RawJson`
where the body goes and :func:`encode` writes its text verbatim.
"""

from __future__ import annotations

import json
import re
from typing import Any

# a NUL-delimited marker: json.dumps escapes NUL, so user strings cannot forge it unescaped
_MARKER = "\x00raw-json\x00"
_MARKER_IN_OUTPUT = re.compile(r'"\\u0000raw-json\\u0000(\d+)"')


class RawJson:
    """Already-encoded JSON (trusted: it parsed when it was received)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def value(self) -> Any:
        """The parsed value."""
        return json.loads(self.text)


def encode(data: Any) -> bytes:
    """Compact JSON of *data*, with every :class:`RawJson` written as its text."""
    raws: list[str] = []

    def placeholder(obj: object) -> str:
        if isinstance(obj, RawJson):
            raws.append(obj.text)
            return f"{_MARKER}{len(raws) - 1}"
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    text = json.dumps(data, separators=(",", ":"), default=placeholder)
    if raws:
        text = _MARKER_IN_OUTPUT.sub(lambda m: raws[int(m.group(1))], text)
    return text.encode()


def materialise(data: Any) -> Any:
    """*data* with every :class:`RawJson` parsed (for in-process callers)."""
    if isinstance(data, RawJson):
        return data.value()
    if isinstance(data, dict):
        return {key: materialise(value) for key, value in data.items()}
    if isinstance(data, list):
        return [materialise(value) for value in data]
    return data
