"""What ``irpctl notifications`` shows and does: list the outbox, send a message again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from irpd.db.database import Database
from irpd.errors import DomainError
from irpd.ops.rows import plain_rows

MESSAGE_STATUSES: Final = ("PENDING", "FAILED", "DELIVERED")
MAX_LISTED: Final = 1000


class NotificationError(DomainError):
    """A notifications command was refused (unknown message, bad filter)."""

    kind = "NotificationError"


class NotificationAdmin:
    """The outbox as operators see it."""

    def __init__(self, db: Database, wake: Callable[[], None] | None = None) -> None:
        self._db = db
        self._wake = wake

    async def list(self, status: str | None = None, limit: int | None = None) -> dict[str, Any]:
        """Counts by state, and the newest messages (of one status)."""
        if status is not None and status.upper() not in MESSAGE_STATUSES:
            raise NotificationError(
                f"Unknown status {status!r}; use one of {list(MESSAGE_STATUSES)}."
            )
        wanted = 50 if limit is None else limit
        if not 1 <= wanted <= MAX_LISTED:
            raise NotificationError(f"limit must be between 1 and {MAX_LISTED}, got {limit}.")
        summary = await self._db.fetchrow("notification_summary")
        rows = await self._db.fetch(
            "notification_list", None if status is None else status.upper(), wanted
        )
        return {"summary": dict(summary or {}), "messages": plain_rows(rows)}

    async def resend(self, message_id: int) -> dict[str, Any]:
        """Make message ``message_id`` PENDING now (same idempotency key)."""
        row = await self._db.fetchrow("notification_resend", message_id)
        if row is None:
            raise NotificationError(f"Notification message {message_id} not found.")
        if self._wake is not None:
            self._wake()
        return plain_rows([row])[0]
