"""Reading the daemon's JSON log: when events happened, and how many lines per window."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

#: journald's default rate limit: RateLimitBurst=10000 messages per RateLimitIntervalSec=30s
JOURNALD_WINDOW = 30.0
JOURNALD_BURST = 10_000


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of the daemon's log (``event`` empty and ``fields`` empty when not JSON)."""

    epoch: float | None
    event: str
    fields: dict[str, Any]


def _epoch(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def read_lines(path: Path) -> Iterator[LogLine]:
    """Every line; a non-JSON line (a traceback) inherits the previous line's time."""
    last: float | None = None
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except ValueError:
                yield LogLine(last, "", {})
                continue
            if not isinstance(data, dict):
                yield LogLine(last, "", {})
                continue
            epoch = _epoch(data.get("timestamp"))
            last = epoch if epoch is not None else last
            yield LogLine(last, str(data.get("event", "")), data)


def first_event(path: Path, event: str) -> LogLine | None:
    """The first line whose event is ``event``."""
    return next((line for line in read_lines(path) if line.event == event), None)


def events(path: Path, event: str) -> list[LogLine]:
    """Every line whose event is ``event``."""
    return [line for line in read_lines(path) if line.event == event]


def max_lines_per_window(path: Path, window: float = JOURNALD_WINDOW) -> int:
    """The most lines written within any ``window`` seconds (sliding)."""
    stamps = [line.epoch for line in read_lines(path) if line.epoch is not None]
    stamps.sort()
    best = start = 0
    for end, stamp in enumerate(stamps):
        while stamp - stamps[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def line_count(path: Path) -> int:
    """Lines in the log."""
    return sum(1 for _ in read_lines(path))


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of the log, for error messages."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
