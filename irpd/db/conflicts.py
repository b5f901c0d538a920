"""Bounded retry of deadlocks and serialization failures (:class:`ConcurrencyConflict`).

PostgreSQL breaks a deadlock by aborting one of the transactions in it, and a serializable
transaction that lost a race the same way; the aborted work was rolled back whole, so running
it again is safe and almost always succeeds. Two places do it (docs/operations.md, "Lock order
and conflict retry"):

- the pool (:class:`irpd.db.database.Database`) runs a single statement again (every engine
  write is one statement);
- :func:`conflicts_retried` runs an operation again whole (an operator command: validate, one
  transaction, return).

A statement inside a transaction is never retried alone: its transaction is what was aborted.
Each retry logs ``db_conflict_retried``; after the last try the conflict propagates.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from functools import wraps
from typing import Any, Final, ParamSpec, TypeVar

import structlog

from irpd.db.failures import ConcurrencyConflict

log = structlog.get_logger("irpd.db")
P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ConflictRetry:
    """Up to ``attempts`` tries, separated by a random pause of up to ``first_delay`` ×
    2^(try − 1) seconds, capped at ``max_delay`` ("full jitter": two transactions that
    deadlocked do not meet again in lock step)."""

    attempts: int = 6
    first_delay: float = 0.02
    max_delay: float = 1.0

    def delay(self, attempt: int) -> float:
        """The pause after failed try number ``attempt`` (1-based)."""
        return random.uniform(0.0, min(self.max_delay, self.first_delay * 2 ** (attempt - 1)))

    async def pause(self, attempt: int, conflict: ConcurrencyConflict, scope: str) -> None:
        """Log the retry (``db_conflict_retried``) and sleep before the next try."""
        delay = self.delay(attempt)
        log.info(
            "db_conflict_retried",
            sqlstate=conflict.sqlstate,
            query=conflict.query,
            scope=scope,
            attempt=attempt,
            delay=round(delay, 3),
        )
        await asyncio.sleep(delay)

    async def run(self, scope: str, call: Callable[[], Awaitable[T]]) -> T:
        """``await call()``, tried again after each conflict while tries remain."""
        attempt = 1
        while True:
            try:
                return await call()
            except ConcurrencyConflict as conflict:
                if attempt >= self.attempts:
                    raise
                await self.pause(attempt, conflict, scope)
                attempt += 1


#: the retry of every statement run on the pool and of every operation marked
#: :func:`conflicts_retried` (at most 0.62 s of pauses in all before the conflict is reported)
CONFLICT_RETRY: Final = ConflictRetry()


def conflicts_retried(
    operation: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """Run ``operation`` again, per :data:`CONFLICT_RETRY`, when a deadlock or serialization
    failure aborted one of its transactions.

    For operations whose only effects are their transactions (an operator command: validate,
    one transaction, return): the aborted transaction was rolled back whole, so the retry
    starts afresh and re-reads everything. Never for work done inside a caller's transaction.
    """

    @wraps(operation)
    async def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        return await CONFLICT_RETRY.run(operation.__qualname__, lambda: operation(*args, **kwargs))

    return retried
