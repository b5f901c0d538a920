"""The one error hierarchy of irpd.

Every error irpd raises on purpose derives from :class:`IrpdError`. Whether the caller may
retry is carried by the type (:class:`RetryableError` / :class:`PermanentError`), never by
parsing a message. Domain errors carry the spec's messages verbatim.
"""

from __future__ import annotations


class IrpdError(Exception):
    """Root of every deliberate irpd error."""

    #: stable machine-readable name used on the control socket (``{type, message}``)
    kind: str = "IrpdError"


class RetryableError(IrpdError):
    """The same operation may succeed later (timeouts, connection loss, 429, 5xx)."""

    kind = "RetryableError"


class PermanentError(IrpdError):
    """Retrying the same operation unchanged will not help."""

    kind = "PermanentError"


class ConfigError(PermanentError):
    """irpd's own configuration (irpd.toml / IRPD_* variables) is invalid."""

    kind = "ConfigError"


class DomainError(PermanentError):
    """A refused domain operation; nothing was written."""

    kind = "DomainError"


class ConfigurationError(DomainError):
    """A cycle configuration (workbook) operation was refused."""

    kind = "ConfigurationError"


class BatchError(DomainError):
    """A batch operation was refused."""

    kind = "BatchError"


class JobError(DomainError):
    """A job operation was refused."""

    kind = "JobError"


class CycleError(DomainError):
    """A cycle operation was refused."""

    kind = "CycleError"


class StaleStateError(RetryableError):
    """A compare-and-set write found the row in another status: someone else moved first."""

    kind = "StaleStateError"


#: longest error text stored on a job (``last_error``, tracking data)
STORED_ERROR_LIMIT = 2000


def clip(text: str, limit: int = STORED_ERROR_LIMIT) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, ending in "…" when
    cut (never mid-word: an operator reading ``last_error`` sees whole words)."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    cut = head.rstrip()
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit // 2:  # a very long "word" (a URL, a body excerpt) is cut where it must be
        cut = cut[:space].rstrip(" ;,:")
    return cut + "…"
