"""Moody's outages: a circuit breaker over every request, and what ``status`` says about it.

When Moody's stops answering (connection refused or dropped, timeouts, 5xx) on request after
request, sending at the normal pace only adds load and noise. After ``open_after`` such
failures in a row (no answer in between) over at least ``open_min_seconds``, the circuit
*opens*: requests are refused at once without being sent (:class:`MoodysUnavailable`,
retryable, saying since when and when the next probe goes), except one *probe* at a time,
sent when the probe interval has passed. The interval starts at ``first_probe`` seconds and
doubles after each failed probe up to ``max_probe_interval``. The first answer of any kind
(even a 4xx: Moody's is there) closes the circuit, and the normal pace resumes.

:class:`CircuitBreaker` is pure arithmetic (the caller passes the clock);
:class:`MoodysHealthState` keeps what ``irpctl status`` shows: reachability, the last error
while it is current, and the authentication state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog

from irpd.errors import ConfigError, clip
from irpd.moodys.errors import (
    MoodysAuthenticationError,
    MoodysConnectionError,
    MoodysError,
    MoodysForbidden,
    MoodysServerError,
    MoodysTimeout,
    MoodysTlsError,
    MoodysUnavailable,
)

log = structlog.get_logger(__name__)

Admission = Literal["send", "probe", "refuse"]


@dataclass(frozen=True, slots=True)
class CircuitSettings:
    """When the circuit opens and how often it probes while open."""

    open_after: int = 5
    open_min_seconds: float = 1.0
    first_probe: float = 1.0
    max_probe_interval: float = 30.0
    growth: float = 2.0

    def __post_init__(self) -> None:
        if self.open_after < 1:
            raise ConfigError("circuit open_after must be at least 1")
        if not 0 < self.first_probe <= self.max_probe_interval:
            raise ConfigError("circuit probes must satisfy 0 < first_probe <= max_probe_interval")
        if self.growth < 1 or self.open_min_seconds < 0:
            raise ConfigError("circuit growth must be >= 1 and open_min_seconds >= 0")


_OUTAGES = (MoodysConnectionError, MoodysTimeout, MoodysServerError, MoodysTlsError)


def is_outage(error: MoodysError) -> bool:
    """Whether a failed attempt says Moody's is unreachable (not: it answered "no")."""
    return isinstance(error, _OUTAGES)


class CircuitBreaker:
    """The breaker's state; nothing here sleeps or reads a clock."""

    __slots__ = (
        "failures",
        "interval",
        "next_probe_at",
        "opened_at",
        "probes",
        "probing",
        "refused",
        "settings",
        "streak_started",
    )

    def __init__(self, settings: CircuitSettings) -> None:
        self.settings = settings
        self.failures = 0
        self.streak_started = 0.0
        self.opened_at: float | None = None
        self.interval = settings.first_probe
        self.next_probe_at = 0.0
        self.probing = False
        self.probes = 0
        self.refused = 0

    @property
    def is_open(self) -> bool:
        """Whether requests are being held back."""
        return self.opened_at is not None

    def probe_due(self, now: float) -> bool:
        """Whether a request sent now would go out (closed, or a probe is due)."""
        return not self.is_open or (not self.probing and now >= self.next_probe_at)

    def admit(self, now: float) -> Admission:
        """``send`` (closed), ``probe`` (open, this one may go), or ``refuse``."""
        if self.opened_at is None:
            return "send"
        if self.probing or now < self.next_probe_at:
            self.refused += 1
            return "refuse"
        self.probing = True
        self.probes += 1
        return "probe"

    def outage(self, now: float, *, probe: bool) -> bool:
        """A failed attempt that says Moody's is unreachable; True when this opened it."""
        if self.failures == 0:
            self.streak_started = now
        self.failures += 1
        if self.opened_at is not None:
            if probe:
                self.probing = False
                self.interval = min(
                    self.settings.max_probe_interval, self.interval * self.settings.growth
                )
                self.next_probe_at = now + self.interval
            return False
        if (
            self.failures >= self.settings.open_after
            and now - self.streak_started >= self.settings.open_min_seconds
        ):
            self.opened_at = now
            self.interval = self.settings.first_probe
            self.next_probe_at = now + self.interval
            self.probing = False
            return True
        return False

    def reached(self) -> bool:
        """An answer came back; True when this closed an open circuit."""
        self.failures = 0
        if self.opened_at is None:
            return False
        self.opened_at = None
        self.probing = False
        return True

    def reconfigure(self, settings: CircuitSettings, now: float) -> None:
        """New settings (SIGHUP). An open circuit keeps its state, but its probe interval
        and next probe come no later than the new bound allows."""
        self.settings = settings
        if self.opened_at is None:
            self.interval = settings.first_probe
            return
        self.interval = min(self.interval, settings.max_probe_interval)
        self.next_probe_at = min(self.next_probe_at, now + self.interval)

    def abandoned(self, *, probe: bool) -> None:
        """A request ended without an outcome (cancelled): let the next probe go."""
        if probe:
            self.probing = False


def _iso(at: float | None, clock: Callable[[], float]) -> str | None:
    """A monotonic instant as an ISO time (UTC, seconds)."""
    if at is None:
        return None
    wall = datetime.now(UTC) - timedelta(seconds=max(0.0, clock() - at))
    return wall.isoformat(timespec="seconds")


class MoodysHealthState:
    """The transport's view of Moody's: the circuit, reachability, authentication and the
    last error while it is current (any answer clears it)."""

    def __init__(
        self, settings: CircuitSettings, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.circuit = CircuitBreaker(settings)
        self._clock = clock
        self.reachable: bool | None = None
        self.unreachable_since: float | None = None
        self.last_error: str | None = None
        self.last_error_since: float | None = None
        self.auth_ok: bool | None = None
        self.auth_failing_since: float | None = None
        self.auth_error: str | None = None
        self.on_close: list[Callable[[], None]] = []

    def reconfigure(self, settings: CircuitSettings) -> None:
        """Apply reloaded circuit settings (SIGHUP) to the running breaker."""
        self.circuit.reconfigure(settings, self._clock())

    def room(self) -> int | None:
        """How many new submissions may start now: None (no limit: the circuit is closed),
        1 (open, a probe is due) or 0 (open: hold them)."""
        if not self.circuit.is_open:
            return None
        return 1 if self.circuit.probe_due(self._clock()) else 0

    def admit(self, method: str, path: str) -> bool:
        """Whether a request may be sent now; raises :class:`MoodysUnavailable` if not.
        Returns True when it goes as the circuit's probe."""
        now = self._clock()
        admission = self.circuit.admit(now)
        if admission == "refuse":
            retry_in = max(0.5, self.circuit.next_probe_at - now)
            raise MoodysUnavailable(
                f"Moody's unreachable since {_iso(self.unreachable_since, self._clock)} "
                f"(circuit open; next probe in {max(0.0, self.circuit.next_probe_at - now):.0f} s)"
                f"; last error: {self.last_error}",
                retry_in=retry_in,
                method=method,
                path=path,
            )
        return admission == "probe"

    def answered(self, *, authenticated: bool) -> None:
        """Moody's answered (any HTTP status that is not an outage)."""
        self.reachable = True
        self.unreachable_since = None
        self.last_error = self.last_error_since = None
        if authenticated:
            self.auth_ok, self.auth_failing_since, self.auth_error = True, None, None
        if self.circuit.reached():
            log.info("moodys_circuit_closed", probes=self.circuit.probes)
            for callback in self.on_close:
                callback()

    def failed(self, error: MoodysError, *, probe: bool) -> None:
        """An attempt failed with ``error`` (an outage, an authentication refusal, or
        another answer that refused the request)."""
        now = self._clock()
        if isinstance(error, (MoodysAuthenticationError, MoodysForbidden)):
            self.answered(authenticated=False)
            if self.auth_ok is not False:
                self.auth_failing_since = now
            self.auth_ok, self.auth_error = False, clip(str(error), 500)
            self._note(error, now)
            return
        if not is_outage(error):
            self.answered(authenticated=False)
            return
        if self.reachable is not False:
            self.unreachable_since = now
        self.reachable = False
        self._note(error, now)
        if self.circuit.outage(now, probe=probe):
            log.error(
                "moodys_circuit_opened",
                failures=self.circuit.failures,
                error=self.last_error,
                probe_in=self.circuit.interval,
            )
        elif probe:
            log.warning(
                "moodys_probe_failed",
                error=self.last_error,
                next_probe_in=round(self.circuit.interval, 1),
                probes=self.circuit.probes,
            )

    def _note(self, error: MoodysError, now: float) -> None:
        if self.last_error is None:
            self.last_error_since = now
        self.last_error = clip(f"{type(error).__name__}: {error}", 500)

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state for ``irpctl status``."""
        circuit, now = self.circuit, self._clock()
        auth = "unknown" if self.auth_ok is None else "ok" if self.auth_ok else "failing"
        return {
            "reachable": self.reachable,
            "unreachable_since": _iso(self.unreachable_since, self._clock),
            "last_error": self.last_error,
            "last_error_since": _iso(self.last_error_since, self._clock),
            "authentication": {
                "state": auth,
                "failing_since": _iso(self.auth_failing_since, self._clock),
                "error": self.auth_error,
            },
            "circuit": {
                "state": "open" if circuit.is_open else "closed",
                "opened_at": _iso(circuit.opened_at, self._clock),
                "probe_interval": round(circuit.interval, 1),
                "next_probe_in": (
                    round(max(0.0, circuit.next_probe_at - now), 1) if circuit.is_open else None
                ),
                "probes": circuit.probes,
                "refused": circuit.refused,
                "open_after": circuit.settings.open_after,
                "max_probe_interval": circuit.settings.max_probe_interval,
            },
        }
