"""The retry policy: a pure decision from (attempt, elapsed time, error) to the next delay.

Exponential backoff with full jitter, bounded in attempts and in total time. A server's
``Retry-After`` is a floor for the delay. Nothing here sleeps or reads a clock.
"""

from __future__ import annotations

import email.utils
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from irpd.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one request is retried.

    ``max_attempts`` counts every send (1 = never retry); ``max_elapsed`` bounds the seconds
    from the first send to the start of the last one; a delay that would cross it ends the
    retries instead.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_elapsed: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("retry max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ConfigError("retry delays must satisfy 0 <= base_delay <= max_delay")
        if self.max_elapsed < 0:
            raise ConfigError("retry max_elapsed must not be negative")

    def backoff_ceiling(self, attempt: int) -> float:
        """Upper bound of the jittered delay after failed attempt ``attempt`` (1-based)."""
        exponent = min(max(attempt - 1, 0), 62)
        return min(self.max_delay, self.base_delay * math.pow(2.0, exponent))


NO_RETRY = RetryPolicy(max_attempts=1, base_delay=0.0, max_delay=0.0, max_elapsed=0.0)


def next_delay(
    policy: RetryPolicy,
    *,
    attempt: int,
    elapsed: float,
    retryable: bool,
    retry_after: float | None,
    jitter: float,
) -> float | None:
    """Seconds to wait before the next attempt, or ``None`` to give up.

    ``attempt`` is the number of sends made so far (1 after the first failure), ``elapsed`` the
    seconds since the first send, ``jitter`` a uniform draw in [0, 1) (full jitter: the delay is
    ``jitter * ceiling``). ``retry_after`` (seconds) is a floor, never shortened by jitter.
    """
    if not retryable or attempt >= policy.max_attempts:
        return None
    delay = min(max(jitter, 0.0), 1.0) * policy.backoff_ceiling(attempt)
    if retry_after is not None:
        delay = max(delay, retry_after)
    if elapsed + delay > policy.max_elapsed:
        return None
    return delay


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date).

    Returns ``None`` for a missing or unreadable value; a date in the past gives ``0.0``.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until_http_date(text, now)
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(seconds, 0.0)


def _seconds_until_http_date(text: str, now: datetime | None) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max((when - reference).total_seconds(), 0.0)
