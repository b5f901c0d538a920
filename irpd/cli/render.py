"""Human output for irpctl: compact tables and key/value blocks that fit a terminal."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from typing import Any


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as an aligned table with the given columns, cut to the terminal width."""
    if not rows:
        return "(none)"
    width = shutil.get_terminal_size((120, 24)).columns
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    sizes = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    sizes = [min(s, 48) for s in sizes]

    def line(values: Sequence[str]) -> str:
        text = "  ".join(v[:s].ljust(s) for v, s in zip(values, sizes, strict=True))
        return text.rstrip()[:width]

    header = line([c.upper() for c in columns])
    return "\n".join([header, *(line(r) for r in cells)])


def block(data: Mapping[str, Any], keys: Sequence[str] | None = None) -> str:
    """A key: value block (nested values as compact JSON)."""
    chosen = keys if keys is not None else list(data)
    size = max((len(k) for k in chosen), default=0)
    return "\n".join(f"{k.ljust(size)}  {_cell(data.get(k))}" for k in chosen if k in data)
