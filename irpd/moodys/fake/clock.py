"""Simulated time: real time multiplied by a scale, plus manual jumps, as epoch seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from irpd.moodys.fake.settings import SettingsError


class SimClock:
    """The fake's notion of "now".

    ``now() = start + (monotonic elapsed) * time_scale + advanced``. A scale of 0 freezes
    time so that only :meth:`advance` moves it (deterministic tests).
    """

    def __init__(
        self,
        time_scale: float,
        start: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._scale = time_scale
        self._start = time.time() if start is None else start
        self._monotonic = monotonic
        self._origin = monotonic()
        self._advanced = 0.0

    @property
    def time_scale(self) -> float:
        """Simulated seconds per real second."""
        return self._scale

    def now(self) -> float:
        """Simulated epoch seconds."""
        elapsed = (self._monotonic() - self._origin) * self._scale
        return self._start + elapsed + self._advanced

    def advance(self, seconds: float) -> float:
        """Jump simulated time forward; returns the new now."""
        if seconds < 0:
            raise ValueError("simulated time only moves forward")
        self._advanced += seconds
        return self.now()


def iso(epoch: float) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, the fake's timestamp format."""
    second = epoch // 1  # a float: equal keys hash alike, and no int() to call
    text = _SECONDS.get(second)
    if text is None:
        # strftime is the slow part, and workflows started together share their second
        if len(_SECONDS) >= _SECONDS_KEPT:
            _SECONDS.clear()
        text = _SECONDS[second] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
    return text + _MILLIS[int(epoch * 1000) % 1000]


#: ``YYYY-MM-DDTHH:MM:SS`` of recent whole seconds (emptied when full)
_SECONDS: dict[float, str] = {}
_SECONDS_KEPT = 4096
#: ``.000Z`` ... ``.999Z``
_MILLIS = tuple(f".{millis:03d}Z" for millis in range(1000))


def parse_iso(text: str) -> float:
    """Epoch seconds of an ISO-8601 date or date-time (``Z`` or offset; naive is UTC)."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def parse_start_time(text: str | None) -> float | None:
    """The configured simulated start instant, or None for the wall clock."""
    if text is None:
        return None
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise SettingsError(f"start_time is not ISO-8601: {text!r}") from exc
