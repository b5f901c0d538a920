"""Paged listings: every list irpd serves, one page at a time (keyset pagination).

Each function takes the :class:`Database`, the listing's filters, ``limit`` (rows per page,
default :data:`DEFAULT_PAGE_SIZE`, at most :data:`MAX_PAGE_SIZE`) and ``after`` (the cursor of
the previous page, ``None`` for the first), and returns a :class:`Page`: the rows and the cursor
of the next page (``None`` on the last one). They are plain async functions so that the
control socket, the HTTP API and notebooks share them.

Order and guarantees: rows come in ascending order of an immutable key (the row's id), and the
next page starts strictly after the last key of the previous one. So, while other writers
change rows, a row that exists and matches the filters for the whole listing appears exactly
once (its key never changes); a row whose status changes in or out of a status filter
meanwhile appears at most once. Each page is one indexed range scan on the separate read pool
(:meth:`Database.fetch_read`): listing a 100,000-job batch never holds a connection the engine
writes through, and never builds more than one page in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar, cast

from irpd import loopcost
from irpd.db.database import Database, Row
from irpd.errors import BatchError, ConfigurationError, CycleError, DomainError, JobError
from irpd.ops import validate
from irpd.ops.batches import BATCH_STATUSES, JOB_STATUSES
from irpd.ops.configurations import CONFIGURATION_STATUSES
from irpd.ops.cycles import CycleRef, cycle_ref, find_cycle
from irpd.ops.reports import BATCH_NEXT_ACTIONS, JOB_NEXT_ACTIONS
from irpd.ops.results import (
    BatchJob,
    BatchReport,
    BatchRow,
    ConfigurationRow,
    JobConfiguration,
    JobReport,
    ListedCycle,
    TrackingEntry,
)
from irpd.ops.rows import plain_row

DEFAULT_PAGE_SIZE: Final = 500
MAX_PAGE_SIZE: Final = 5000
#: rows converted to JSON types between two yields to the event loop
CONVERT_CHUNK: Final = 100
CYCLE_STATUSES: Final = ("ACTIVE", "ARCHIVED")
#: the type of a listing's rows (irpd.ops.results)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """One page of a listing: ``rows`` and the cursor of the next page (``None``: the end)."""

    rows: list[R]
    next: str | None

    def as_result(self, key: str) -> dict[str, Any]:
        """The page as a control/HTTP answer: ``{key: rows, "next": cursor}``."""
        return {key: self.rows, "next": self.next}


def page_size(limit: object, error: type[DomainError]) -> int:
    """``limit`` checked: ``None`` → the default, else an int in 1..MAX_PAGE_SIZE."""
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if isinstance(limit, bool) or not isinstance(limit, int) or not 0 < limit <= MAX_PAGE_SIZE:
        raise error(
            f"Invalid limit: {validate.shown(limit)}. Must be an integer from 1 to {MAX_PAGE_SIZE}."
        )
    return limit


def cursor_key(after: object, error: type[DomainError]) -> int:
    """The key a cursor stands for (0: from the start). Cursors are opaque to callers: pass
    back the ``next`` of the previous page unchanged."""
    if after is None:
        return 0
    text = after if isinstance(after, str) else None
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 19:
        raise error(
            f"Invalid after: {validate.shown(after)}. Must be the 'next' cursor of a previous page."
        )
    key = int(text)
    if key > validate.MAX_ID:
        raise error(f"Invalid after: {validate.shown(after)}. Not a cursor of this listing.")
    return key


async def _page(
    db: Database,
    kind: type[R],
    query: str,
    args: Sequence[Any],
    size: int,
    key: str = "id",
) -> Page[R]:
    """One page of ``query``'s rows, each of type ``kind`` (its columns)."""
    rows = await db.fetch_read(query, *args, size + 1)
    more = len(rows) > size
    shown = rows[:size]
    converted = cast(list[R], await plain_rows_yielding(shown))
    return Page(converted, str(shown[-1][key]) if more else None)


async def plain_rows_yielding(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Rows as JSON-able dicts, giving the event loop back every :data:`CONVERT_CHUNK` rows."""
    converted: list[dict[str, Any]] = []
    for start in range(0, len(rows), CONVERT_CHUNK):
        if start:
            await asyncio.sleep(0)
        with loopcost.step():
            converted.extend(plain_row(row) for row in rows[start : start + CONVERT_CHUNK])
    return converted


async def _require(
    db: Database, query: str, ident: int, error: type[DomainError], what: str
) -> None:
    if not await db.fetchval(query, ident):
        raise error(f"{what} {ident} not found.")


async def cycles(
    db: Database, *, status: str | None = None, limit: int | None = None, after: str | None = None
) -> Page[ListedCycle]:
    """Cycles, oldest first."""
    wanted = validate.optional_choice("status", status, CYCLE_STATUSES, CycleError)
    size, key = page_size(limit, CycleError), cursor_key(after, CycleError)
    return await _page(db, ListedCycle, "page_cycles", (wanted, key), size)


async def configurations(
    db: Database,
    *,
    cycle: CycleRef | None = None,
    status: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> Page[ConfigurationRow]:
    """Configurations without their data, optionally of one cycle and/or status."""
    ref = None if cycle is None else cycle_ref(cycle, ConfigurationError)
    wanted = validate.optional_choice("status", status, CONFIGURATION_STATUSES, ConfigurationError)
    size, key = page_size(limit, ConfigurationError), cursor_key(after, ConfigurationError)
    cycle_id = None if ref is None else (await find_cycle(db, ref, ConfigurationError))["id"]
    return await _page(db, ConfigurationRow, "page_configurations", (cycle_id, wanted, key), size)


async def batches(
    db: Database,
    *,
    status: str | None = None,
    configuration_id: int | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> Page[BatchRow]:
    """Batches, optionally of one status and/or configuration."""
    wanted = validate.optional_choice("status", status, BATCH_STATUSES, BatchError)
    config_id = validate.optional_id("configuration_id", configuration_id, BatchError)
    size, key = page_size(limit, BatchError), cursor_key(after, BatchError)
    return await _page(db, BatchRow, "page_batches", (wanted, config_id, key), size)


async def batch_jobs(
    db: Database,
    batch_id: int,
    *,
    skipped: bool | None = None,
    status: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> Page[BatchJob]:
    """A batch's jobs (narrow rows: no request/response), by job id."""
    bid = validate.positive_id("batch_id", batch_id, BatchError)
    skip = validate.optional_bool("skipped", skipped, BatchError)
    wanted = validate.optional_choice("status", status, JOB_STATUSES, BatchError)
    size, key = page_size(limit, BatchError), cursor_key(after, BatchError)
    await _require(db, "batch_exists", bid, BatchError, "Batch")
    return await _page(db, BatchJob, "page_batch_jobs", (bid, skip, wanted, key), size)


async def batch_job_configurations(
    db: Database,
    batch_id: int,
    *,
    skipped: bool | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> Page[JobConfiguration]:
    """A batch's job configurations (with their data), by id."""
    bid = validate.positive_id("batch_id", batch_id, BatchError)
    skip = validate.optional_bool("skipped", skipped, BatchError)
    size, key = page_size(limit, BatchError), cursor_key(after, BatchError)
    await _require(db, "batch_exists", bid, BatchError, "Batch")
    query = "page_batch_job_configurations"
    return await _page(db, JobConfiguration, query, (bid, skip, key), size)


async def job_tracking(
    db: Database, job_id: int, *, limit: int | None = None, after: str | None = None
) -> Page[TrackingEntry]:
    """A job's tracking history (every status change and operator action), oldest first."""
    jid = validate.positive_id("job_id", job_id, JobError)
    size, key = page_size(limit, JobError), cursor_key(after, JobError)
    await _require(db, "job_batch_id", jid, JobError, "Job")
    return await _page(db, TrackingEntry, "page_job_tracking", (jid, key), size)


async def batch_reports(
    db: Database,
    *,
    status: str | None = None,
    next_action: str | None = None,
    cycle_id: int | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> Page[BatchReport]:
    """``irp_batch_report`` rows, by batch id."""
    wanted = validate.optional_choice("status", status, BATCH_STATUSES, BatchError)
    action = validate.optional_choice("next_action", next_action, BATCH_NEXT_ACTIONS, BatchError)
    cycle = validate.optional_id("cycle_id", cycle_id, BatchError)
    size, key = page_size(limit, BatchError), cursor_key(after, BatchError)
    args = (wanted, action, cycle, key)
    return await _page(db, BatchReport, "page_batch_reports", args, size, "batch_id")


async def job_reports(
    db: Database,
    batch_id: int,
    *,
    next_action: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    after: str | None = None,
) -> Page[JobReport]:
    """``irp_job_report`` rows of a batch's jobs, by job id."""
    bid = validate.positive_id("batch_id", batch_id, BatchError)
    action = validate.optional_choice("next_action", next_action, JOB_NEXT_ACTIONS, BatchError)
    wanted = validate.optional_choice("status", status, JOB_STATUSES, BatchError)
    size, key = page_size(limit, BatchError), cursor_key(after, BatchError)
    await _require(db, "batch_exists", bid, BatchError, "Batch")
    args = (bid, action, wanted, key)
    return await _page(db, JobReport, "page_job_reports", args, size, "job_id")
