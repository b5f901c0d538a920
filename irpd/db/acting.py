"""A :class:`Database` whose transactions say who acts: the web process runs every operator
action with ``irpd.actor`` set (transaction-local), so the operator's tracking-log row records
the user in the same statement as the change (trigger of migration 0070).

Usage::

    with acting_as("alice"):
        await ops.jobs.skip_job(7, "not needed")   # tracking_data.actor = "alice"
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

from irpd.db.database import Database, Tx

_ACTOR: contextvars.ContextVar[str | None] = contextvars.ContextVar("irpd_actor", default=None)


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Transactions opened in this block (this task) are stamped with ``actor``."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


class ActingDatabase(Database):
    """:class:`Database` that sets ``irpd.actor`` at the start of every transaction opened
    inside :func:`acting_as`."""

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A transaction, stamped with the acting user when there is one."""
        async with super().transaction() as tx:
            actor = _ACTOR.get()
            if actor is not None:
                await tx.fetchval("web_set_actor", actor)
            yield tx


def acting(db: Database) -> ActingDatabase:
    """``db``'s pool and queries as an :class:`ActingDatabase` (closing it closes the shared
    pool and its own read pool)."""
    return ActingDatabase(db._pool, db._queries, db.dsn, db._pool_options)
