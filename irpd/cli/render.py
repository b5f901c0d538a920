"""Human output for irpctl: aligned tables and key/value blocks, wrapped (never cut) to the
terminal, with every shown text escaped and colour only where it helps.

- **Escaped**: control characters (C0, DEL, C1, bidirectional controls, line separators) in
  any shown value become visible escapes (``\\n``, ``\\u202e``), so stored text cannot forge or
  reorder lines of output.
- **Wrapped**: on a terminal, a table wider than the screen wraps its widest cells at word
  boundaries onto continuation lines; piped output is never wrapped (one row per line, for
  ``grep``), and nothing is ever cut.
- **Colour**: only when stdout is a terminal, ``NO_COLOR`` is unset or empty and ``TERM`` is
  not ``dumb``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Final, TextIO

_CONTROL: Final = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NAMED: Final = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: a column is never squeezed narrower than this to make a table fit
MIN_COLUMN: Final = 10
GAP: Final = "  "

_COLOURS: Final = {
    "green": "32",
    "red": "31",
    "yellow": "33",
    "cyan": "36",
    "bold": "1",
    "dim": "2",
}
STATUS_COLOURS: Final = {
    **dict.fromkeys(("COMPLETED", "FINISHED", "FORCED_OK", "VALID", "ACTIVE", "PROCEED"), "green"),
    **dict.fromkeys(("FAILED", "ERROR", "INVALID"), "red"),
    **dict.fromkeys(
        ("CANCELLED", "CANCEL_REQUESTED", "CANCELLING", "REVIEW_FAILURES", "RESUBMIT_OR_SKIP"),
        "yellow",
    ),
    **dict.fromkeys(("RUNNING", "SUBMITTED", "SUBMITTING", "QUEUED", "PENDING"), "cyan"),
}


def escape(text: str) -> str:
    """``text`` with control characters shown as escapes (``\\n``, ``\\x1b``, ``\\u202e``)."""

    def shown(match: re.Match[str]) -> str:
        char = match.group()
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _CONTROL.sub(shown, text)


def cell(value: Any) -> str:
    """One value as shown: ``-`` for none, yes/no, compact JSON for objects, escaped text."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(round(value, 3))
    if isinstance(value, dict | list):
        return escape(json.dumps(value, separators=(", ", ": "), ensure_ascii=False, default=str))
    return escape(str(value))


def colour_enabled(stream: TextIO | None = None) -> bool:
    """Whether ``stream`` (stdout) gets colour: a terminal, no ``NO_COLOR``, not ``dumb``."""
    target = stream if stream is not None else sys.stdout
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return target.isatty()
    except (AttributeError, ValueError):
        return False


def paint(text: str, colour: str | None, enabled: bool) -> str:
    """``text`` in ``colour`` (a name of ``_COLOURS``) when ``enabled``."""
    if not enabled or not colour or colour not in _COLOURS:
        return text
    return f"\x1b[{_COLOURS[colour]}m{text}\x1b[0m"


def width_for(stream: TextIO | None = None) -> int | None:
    """The width to wrap to: the terminal's when ``stream`` is one (or ``COLUMNS`` is set);
    None (no wrapping) for pipes and files."""
    target = stream if stream is not None else sys.stdout
    if os.environ.get("COLUMNS", "").isdigit():
        return max(40, int(os.environ["COLUMNS"]))
    try:
        if not target.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return max(40, shutil.get_terminal_size((120, 24)).columns)


def fit_widths(sizes: list[int], headers: Sequence[str], width: int) -> list[int]:
    """Shrink the widest columns until the row fits ``width`` (not below their header or
    ``MIN_COLUMN``)."""
    fitted = list(sizes)
    floors = [min(s, max(len(h), MIN_COLUMN)) for s, h in zip(sizes, headers, strict=True)]
    excess = sum(fitted) + len(GAP) * (len(fitted) - 1) - width
    while excess > 0:
        candidates = [i for i, s in enumerate(fitted) if s > floors[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: fitted[i])
        others = [fitted[i] for i in candidates if i != widest]
        target = max(floors[widest], max(others, default=0), fitted[widest] - excess)
        if target >= fitted[widest]:
            target = fitted[widest] - 1
        excess -= fitted[widest] - target
        fitted[widest] = target
    return fitted


def _wrapped(text: str, size: int) -> list[str]:
    if len(text) <= size:
        return [text]
    return textwrap.wrap(text, size, break_on_hyphens=False) or [""]


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    headers: Sequence[str] | None = None,
    width: int | None = -1,
    colour: bool = False,
) -> str:
    """Rows as an aligned table. ``width``: wrap to it (-1: the terminal's, see
    :func:`width_for`; None: never wrap). Status-like values are coloured with ``colour``."""
    if not rows:
        return "(none)"
    limit = width_for() if width == -1 else width
    titles = [h.upper() for h in (headers or columns)]
    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    sizes = [max(len(t), *(len(r[i]) for r in cells)) for i, t in enumerate(titles)]
    if limit is not None:
        sizes = fit_widths(sizes, titles, limit)
    out = [_line([paint(t.ljust(s), "bold", colour) for t, s in zip(titles, sizes, strict=True)])]
    out.extend(table_lines(cells, sizes, wrap=limit is not None, colour=colour))
    return "\n".join(out)


def table_lines(
    cells: Sequence[Sequence[str]], sizes: Sequence[int], *, wrap: bool = True, colour: bool = False
) -> list[str]:
    """Rows of shown cells, aligned to ``sizes``; with ``wrap`` a longer cell continues on
    the next lines (at word boundaries), else it simply makes its line longer."""
    out = []
    for values in cells:
        parts = [_wrapped(v, s) if wrap else [v] for v, s in zip(values, sizes, strict=True)]
        for depth in range(max(len(p) for p in parts)):
            shown = []
            for part, size in zip(parts, sizes, strict=True):
                text = part[depth] if depth < len(part) else ""
                shown.append(paint(text.ljust(size), STATUS_COLOURS.get(text), colour))
            out.append(_line(shown))
    return out


def _line(values: Sequence[str]) -> str:
    return GAP.join(values).rstrip()


def block(
    data: Mapping[str, Any] | Sequence[tuple[str, Any]],
    keys: Sequence[str] | None = None,
    *,
    width: int | None = -1,
    colour: bool = False,
    indent: str = "",
) -> str:
    """A ``key  value`` block (keys aligned; long values wrapped under their value column).

    ``data`` is a mapping (``keys`` choose and order; absent keys are left out) or a sequence
    of (label, value) pairs."""
    if isinstance(data, Mapping):
        chosen = keys if keys is not None else list(data)
        pairs = [(k, data[k]) for k in chosen if k in data]
    else:
        pairs = list(data)
    pairs = [(escape(str(label)), value) for label, value in pairs]
    if not pairs:
        return ""
    size = max(len(label) for label, _ in pairs)
    limit = width_for() if width == -1 else width
    room = None if limit is None else max(MIN_COLUMN * 2, limit - len(indent) - size - len(GAP))
    lines = []
    for label, value in pairs:
        text = value if isinstance(value, Shown) else cell(value)
        pieces = [str(text)] if room is None else _wrapped(str(text), room)
        coloured = paint(pieces[0], STATUS_COLOURS.get(str(text)), colour)
        lines.append(f"{indent}{label.ljust(size)}{GAP}{coloured}".rstrip())
        lines.extend(f"{indent}{' ' * size}{GAP}{piece}" for piece in pieces[1:])
    return "\n".join(lines)


class Shown(str):
    """Text already made safe for display (escaped, formatted): :func:`block` keeps it."""

    __slots__ = ()


def duration(seconds: float | None) -> str:
    """``3725`` → ``1h 02m 05s``; ``42.3`` → ``42s``."""
    if seconds is None:
        return "-"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def bar(done: int, total: int, size: int = 24) -> str:
    """``[#########---------------]``: ``done`` of ``total``."""
    filled = 0 if total <= 0 else min(size, round(size * done / total))
    return "[" + "#" * filled + "-" * (size - filled) + "]"


def counts(mapping: Mapping[str, Any] | None) -> str:
    """``{"FINISHED": 3, "RUNNING": 1}`` → ``FINISHED 3, RUNNING 1`` (sorted; none: ``-``)."""
    if not mapping:
        return "-"
    return ", ".join(f"{escape(str(k))} {v}" for k, v in sorted(mapping.items()))
