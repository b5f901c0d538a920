"""The one store operation for status changes: apply a list of moves.

A :class:`~statemachines.moves.Move` (job id, expected status, target, trigger, audit data)
is decided by a machine in ``statemachines/``; :func:`apply_moves` writes a list of them in
ONE statement: compare-and-set on the expected status, the target written, and the tracking-log
row inserted by the same statement. What else a kind of move writes (the idempotency key of
``begin_submit``, the workflow id of ``acknowledge``, the progress and next poll of a report,
the forced-ok reason ...) is its :class:`Effects`: the statement's name and its extra column
arrays. Every move statement takes the same first five parameters::

    $1 ids bigint[], $2 expected, $3 targets, $4 audit data jsonb[], $5 source

($2 and $3 are the statuses joined by commas, split by ``string_to_array``: a ``text[]`` of
1,000 statuses cost asyncpg ~1 µs per element to check and encode, the joined text next to
nothing), then its effect columns, then (engine statements) the worker id that fences the write by
shard lease. Nothing here names a status: expected and target come from the moves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from statemachines.job import TERMINAL_JOB_STATUSES
from statemachines.moves import Move

#: who asked for a move (``irp_job_tracking_log.source``)
Source = Literal["engine", "moodys", "operator"]

#: terminal job statuses as a ``= ANY($n::text[])`` parameter
TERMINAL_STATUS_LIST: Final = sorted(str(status) for status in TERMINAL_JOB_STATUSES)


class Runner(Protocol):
    """A database or a transaction: runs a named query."""

    async def fetch(self, name: str, *args: Any) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class Effects:
    """What a kind of move writes besides the status: the statement and its extra columns
    (one array per move column, or one value for the whole statement), in parameter order
    after the five move columns."""

    statement: str
    columns: tuple[Any, ...] = ()


def joined(statuses: Sequence[str]) -> str:
    """A column of statuses as its parameter: one text, split by the statement (a status is
    an upper-case word, never a comma)."""
    return ",".join(statuses)


def nullable(values: Sequence[Any]) -> list[Any] | None:
    """A move column as its parameter: NULL when every value is NULL. Every move statement
    reads its columns with one multi-argument ``unnest``, which pads a NULL array with NULLs;
    most moves carry no audit data, error or progress, and a list of NULLs costs an
    ``isinstance`` check and an encoding per element (docs/performance.md)."""
    return None if all(value is None for value in values) else list(values)


def submit_intents(keys: Sequence[uuid.UUID], names: Sequence[str]) -> Effects:
    """``begin_submit``: the idempotency key and workflow name of each job."""
    return Effects("engine_begin_submit", (list(keys), list(names)))


def acknowledgements(
    workflow_ids: Sequence[str],
    requests: Sequence[dict[str, Any]],
    responses: Sequence[dict[str, Any]],
    first_poll_in: Sequence[float],
) -> Effects:
    """``acknowledge``: the workflow id, the request and response, the first poll's delay."""
    return Effects(
        "engine_record_acknowledged",
        (list(workflow_ids), list(requests), list(responses), list(first_poll_in)),
    )


def settlements(
    errors: Sequence[str | None],
    requests: Sequence[dict[str, Any]],
    responses: Sequence[dict[str, Any]],
    accepted: Sequence[bool],
) -> Effects:
    """``complete_synchronously`` / ``refuse``: the reason of a refusal (``last_error``), the
    request and response, whether Moody's carried the operation out."""
    return Effects(
        "engine_record_settled", (list(errors), list(requests), list(responses), list(accepted))
    )


def reports(
    progress: Sequence[int | None],
    poll_in: Sequence[float | None],
    errors: Sequence[str | None],
) -> Effects:
    """``report_<status>``: progress, the next poll's delay (``None``: none when terminal,
    else unchanged) and ``last_error`` (``None`` keeps it)."""
    return Effects(
        "engine_apply_reports",
        (nullable(progress), nullable(poll_in), nullable(errors), TERMINAL_STATUS_LIST),
    )


def cancels_sent(poll_in: Sequence[float]) -> Effects:
    """``cancel_sent``: the next poll's delay."""
    return Effects("engine_cancel_sent", (list(poll_in),))


def lost(errors: Sequence[str], lost_after: float) -> Effects:
    """``declare_lost``: the reason (``last_error``), for workflows missing ``lost_after`` s."""
    return Effects("engine_declare_lost", (list(errors), lost_after))


def preflight_refusals(reasons: Sequence[str]) -> Effects:
    """``refuse_preflight``: what is missing at Moody's (``last_error``)."""
    return Effects("job_refuse_preflight", (list(reasons),))


def operator(forced_ok_reason: str | None = None) -> Effects:
    """An operator's ``request_cancel`` / ``force_ok`` (with its reason)."""
    return Effects("job_transition", (forced_ok_reason, TERMINAL_STATUS_LIST))


async def apply_moves(
    runner: Runner,
    moves: Sequence[Move],
    effects: Effects,
    source: Source,
    *fence: str | None,
) -> list[Any]:
    """Write ``moves`` (compare-and-set + audit row each) in one statement; returns the rows
    of the moves that were applied (``id, batch_id, target, expected`` first). A move whose
    job is no longer in ``expected`` (or, fenced, on a shard not leased to the worker) is
    not applied: the caller re-reads and asks the machine again."""
    if not moves:
        return []
    ids, expected, targets, _, data = zip(*moves, strict=True)
    return await runner.fetch(
        effects.statement,
        list(ids),
        joined(expected),
        joined(targets),
        nullable(data),
        source,
        *effects.columns,
        *fence,
    )
