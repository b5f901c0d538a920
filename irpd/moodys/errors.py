"""Errors of the Moody's client, typed by what the caller must do.

:class:`MoodysRetryableError` subclasses may succeed later unchanged; :class:`MoodysPermanentError`
subclasses will not. Each carries Moody's ``code``/``message``/``logId`` when the body had
them, the HTTP status, method and path, never headers or credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from irpd.errors import IrpdError, PermanentError, RetryableError


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    """What an error response said: Moody's error fields, or a sanitised body excerpt."""

    code: str | None = None
    message: str | None = None
    log_id: str | None = None
    excerpt: str | None = None


class MoodysError(IrpdError):
    """Root of the client's errors; the string form is a one-line summary."""

    kind = "MoodysError"

    def __init__(
        self,
        summary: str,
        *,
        http_status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        details: ErrorDetails | None = None,
    ) -> None:
        self.summary = summary
        self.http_status = http_status
        self.method = method
        self.path = path
        self.details = details if details is not None else ErrorDetails()
        super().__init__(self._render())

    @property
    def code(self) -> str | None:
        """Moody's error code, e.g. ``WORKFLOW-511``."""
        return self.details.code

    @property
    def moodys_message(self) -> str | None:
        """Moody's error message, verbatim."""
        return self.details.message

    @property
    def log_id(self) -> str | None:
        """Moody's ``logId`` (quote it to Moody's support)."""
        return self.details.log_id

    def _render(self) -> str:
        parts = [self.summary]
        if self.method and self.path:
            where = f"{self.method} {self.path}"
            parts.append(f"{where} -> {self.http_status}" if self.http_status else where)
        detail = self.details
        if detail.code or detail.message:
            parts.append(": ".join(p for p in (detail.code, detail.message) if p))
        elif detail.excerpt:
            parts.append(f"body: {detail.excerpt!r}")
        if detail.log_id:
            parts.append(f"logId={detail.log_id}")
        return "; ".join(parts)


class MoodysRetryableError(MoodysError, RetryableError):
    """The same request may succeed later (for a POST: only with the same request id)."""

    kind = "MoodysRetryableError"


class MoodysPermanentError(MoodysError, PermanentError):
    """Retrying the same request unchanged will not help."""

    kind = "MoodysPermanentError"


class MoodysTimeout(MoodysRetryableError):
    """No (complete) response within the configured timeout."""

    kind = "MoodysTimeout"


class MoodysConnectionError(MoodysRetryableError):
    """Connecting failed, or the connection dropped before a complete response."""

    kind = "MoodysConnectionError"


class MoodysUnavailable(MoodysConnectionError):
    """Not sent: the circuit is open (Moody's has been unreachable); try after ``retry_in``."""

    kind = "MoodysUnavailable"

    def __init__(self, summary: str, *, retry_in: float, method: str, path: str) -> None:
        self.retry_in = retry_in
        super().__init__(summary, method=method, path=path)


class MoodysRateLimited(MoodysRetryableError):
    """429 (or a 403 that names a rate limit); ``retry_after`` in seconds when given."""

    kind = "MoodysRateLimited"

    def __init__(
        self,
        summary: str,
        *,
        retry_after: float | None = None,
        http_status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        details: ErrorDetails | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(
            summary, http_status=http_status, method=method, path=path, details=details
        )


class MoodysServerError(MoodysRetryableError):
    """5xx, or 408: the server failed; safe to retry a GET, or a POST with its request id."""

    kind = "MoodysServerError"


class MoodysRequestInFlight(MoodysRetryableError):
    """409: the first request with this request id is still being processed."""

    kind = "MoodysRequestInFlight"


class MoodysMalformedResponse(MoodysRetryableError):
    """A success status with an unreadable body (HTML, empty, truncated JSON, no Location)."""

    kind = "MoodysMalformedResponse"


class MoodysBadRequest(MoodysPermanentError):
    """400 and other 4xx not listed elsewhere: fix the request, send it with a new request id."""

    kind = "MoodysBadRequest"


class MoodysAuthenticationError(MoodysPermanentError):
    """401: missing or invalid credentials (``IAM-001``)."""

    kind = "MoodysAuthenticationError"


class MoodysForbidden(MoodysPermanentError):
    """403: the principal lacks a permission or licence."""

    kind = "MoodysForbidden"


class MoodysNotFound(MoodysPermanentError):
    """404: the addressed resource does not exist (e.g. ``WORKFLOW-511``)."""

    kind = "MoodysNotFound"


class NotCancellable(MoodysBadRequest):
    """``WORKFLOW-515``: the workflow is already terminal; ``current_status`` says which."""

    kind = "NotCancellable"

    def __init__(
        self,
        summary: str,
        *,
        current_status: str | None,
        http_status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        details: ErrorDetails | None = None,
    ) -> None:
        self.current_status = current_status
        super().__init__(
            summary, http_status=http_status, method=method, path=path, details=details
        )


class UnresolvedReference(MoodysPermanentError):
    """A name in the job configuration resolves to nothing at Moody's."""

    kind = "UnresolvedReference"

    def __init__(self, what: str, name: str, *, scope: str | None = None) -> None:
        self.what = what
        self.name = name
        where = f" in {scope}" if scope else ""
        super().__init__(f"{what} {name!r} not found{where}")


class InvalidJobConfiguration(MoodysPermanentError):
    """The job configuration cannot be turned into a Moody's request."""

    kind = "InvalidJobConfiguration"


class MoodysTlsError(MoodysPermanentError):
    """The server's TLS certificate was rejected: a configuration problem, not a blip."""

    kind = "MoodysTlsError"


class UploadError(MoodysPermanentError):
    """Staging an import file failed for a reason a retry will not fix."""

    kind = "UploadError"


_RATE_WORDS = ("rate limit", "rate-limit", "ratelimit", "too many requests", "throttl", "quota")


def _names_rate_limit(details: ErrorDetails) -> bool:
    text = " ".join(p for p in (details.code, details.message, details.excerpt) if p).lower()
    return any(word in text for word in _RATE_WORDS)


def error_for_status(
    status: int,
    *,
    method: str,
    path: str,
    details: ErrorDetails,
    retry_after: float | None = None,
) -> MoodysError:
    """The typed error for a non-success HTTP status (the caller handles 2xx)."""
    if status == 429 or (status == 403 and _names_rate_limit(details)):
        return MoodysRateLimited(
            "rate limited",
            retry_after=retry_after,
            http_status=status,
            method=method,
            path=path,
            details=details,
        )
    error_type: type[MoodysError]
    if status == 409:
        error_type, summary = MoodysRequestInFlight, "request with this id still in progress"
    elif status == 408 or status >= 500:
        error_type, summary = MoodysServerError, "server error"
    else:
        error_type = _PERMANENT_BY_STATUS.get(status, MoodysBadRequest)
        summary = "request rejected"
    return error_type(summary, http_status=status, method=method, path=path, details=details)


_PERMANENT_BY_STATUS: Final[Mapping[int, type[MoodysPermanentError]]] = MappingProxyType(
    {401: MoodysAuthenticationError, 403: MoodysForbidden, 404: MoodysNotFound}
)
