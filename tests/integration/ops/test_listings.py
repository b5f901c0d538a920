"""Paged listings (irpd.ops.listings): stable keyset order, every row once under concurrent
changes, filters, cursors and bad input refused with nothing read."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from irpd.db.database import Database
from irpd.errors import BatchError, JobError
from irpd.ops import Operations, listings

from .support import force_status, job_ids, register_jobs

NO_STR: Any = 7


async def _all_pages(
    fetch: Any, after: str | None = None, **args: Any
) -> tuple[list[dict[str, Any]], int]:
    rows: list[dict[str, Any]] = []
    pages = 0
    while True:
        page = await fetch(after=after, **args)
        rows.extend(page.rows)
        pages += 1
        if page.next is None:
            return rows, pages
        after = page.next


@pytest.fixture
async def big_batch(ops: Operations, cycle: dict[str, Any]) -> int:
    config_id = await register_jobs(ops, cycle["cycle_name"], 23)
    batch_id: int = (await ops.batches.create_batch("multi_job", config_id))["batch_id"]
    return batch_id


async def test_pages_cover_the_listing_in_order(ops: Operations, big_batch: int) -> None:
    def jobs(**a: Any) -> Any:
        return listings.batch_jobs(ops.db, big_batch, **a)

    rows, pages = await _all_pages(jobs, limit=5)
    assert pages == 5  # 23 rows: 5+5+5+5+3, no empty trailing page
    assert rows == await ops.batches.get_batch_jobs(big_batch)
    exact, exact_pages = await _all_pages(jobs, limit=23)
    assert (exact, exact_pages) == (rows, 1)
    first = await jobs()
    assert first.next is None
    assert len(first.rows) == 23
    configs, _ = await _all_pages(
        lambda **a: listings.batch_job_configurations(ops.db, big_batch, **a), limit=4
    )
    assert configs == await ops.batches.get_batch_job_configurations(big_batch)
    reports, _ = await _all_pages(lambda **a: listings.job_reports(ops.db, big_batch, **a), limit=6)
    assert [r["job_id"] for r in reports] == [r["id"] for r in rows]
    assert [r["job_id"] for r in reports] == sorted(r["job_id"] for r in reports)


async def test_every_row_once_while_rows_change(
    ops: Operations, big_batch: int, db_dsn: str
) -> None:
    """Between pages: statuses move, jobs are resubmitted (old skipped, new appended) and new
    jobs added. Every job there from start to end is listed exactly once, in id order; jobs
    created meanwhile come after the cursor (listed once, or not at all)."""
    before = await job_ids(ops, big_batch)
    seen: list[int] = []
    after = None
    step = 0
    while True:
        page = await listings.batch_jobs(ops.db, big_batch, limit=4, after=after)
        seen.extend(row["id"] for row in page.rows)
        if page.next is None:
            break
        after = page.next
        # changes on rows already listed, on rows not yet listed, and new rows
        await force_status(db_dsn, before[step], "FAILED")
        await ops.resubmissions.resubmit_job(before[step])
        await force_status(db_dsn, before[-1 - step], "RUNNING")
        step += 1
    assert seen == sorted(set(seen))  # in order, nothing twice
    assert set(before) <= set(seen)  # nothing that existed throughout is missed
    created = set(await job_ids(ops, big_batch)) - set(before)
    assert created
    assert set(seen) - set(before) <= created


async def test_concurrent_writers_and_readers(ops: Operations, big_batch: int) -> None:
    """Listings running while another task applies status facts to the same jobs."""
    ids = await job_ids(ops, big_batch)
    for job_id in ids:
        await ops.jobs.submit_job(job_id)

    async def write() -> None:
        for job_id in ids:
            await ops.tracking.apply_status_fact(job_id, "QUEUED", {"n": 1})

    async def read() -> list[int]:
        rows, _ = await _all_pages(
            lambda **a: listings.batch_jobs(ops.db, big_batch, **a), limit=3
        )
        return [row["id"] for row in rows]

    results = await asyncio.gather(write(), read(), read(), read())
    for listed in results[1:]:
        assert listed == ids


async def test_a_status_filter_lists_a_row_at_most_once(
    ops: Operations, big_batch: int, db_dsn: str
) -> None:
    ids = await job_ids(ops, big_batch)
    for job_id in ids[::2]:
        await force_status(db_dsn, job_id, "RUNNING")
    page = await listings.batch_jobs(ops.db, big_batch, status="RUNNING", limit=3)
    # a listed RUNNING job leaves the filter, an unlisted one joins it
    await force_status(db_dsn, page.rows[0]["id"], "FINISHED")
    await force_status(db_dsn, ids[-2], "RUNNING")
    rest, _ = await _all_pages(
        lambda **a: listings.batch_jobs(ops.db, big_batch, status="RUNNING", **a),
        limit=3,
        after=page.next,
    )
    listed = [r["id"] for r in page.rows + rest]
    assert listed == sorted(set(listed))
    assert ids[-2] in listed


async def test_tracking_history_and_other_listings(
    ops: Operations, big_batch: int, cycle: dict[str, Any]
) -> None:
    job_id = (await job_ids(ops, big_batch))[0]
    await ops.jobs.submit_job(job_id)
    # a log row per status change (a fact on a job Moody's never had is not one)
    await ops.jobs.cancel_job(job_id)
    await ops.jobs.force_ok_job(job_id, "done by hand")
    history, pages = await _all_pages(
        lambda **a: listings.job_tracking(ops.db, job_id, **a), limit=1
    )
    assert len(history) == 2
    assert pages == 2
    assert [r["id"] for r in history] == [
        r["id"] for r in (await ops.tracking.job_history(job_id))["tracking_log"]
    ]
    assert [c["id"] for c in (await listings.cycles(ops.db)).rows] == [cycle["id"]]
    assert len((await listings.configurations(ops.db, cycle=cycle["cycle_name"])).rows) == 1
    assert [b["id"] for b in (await listings.batches(ops.db)).rows] == [big_batch]
    reports = await listings.batch_reports(ops.db, cycle_id=cycle["id"])
    assert [r["batch_id"] for r in reports.rows] == [big_batch]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda db: listings.batch_jobs(db, 1, limit=0), BatchError, "Invalid limit: 0."),
        (lambda db: listings.batch_jobs(db, 1, limit=5001), BatchError, "Invalid limit: 5001."),
        (lambda db: listings.batch_jobs(db, 1, limit=True), BatchError, "Invalid limit: True."),
        (lambda db: listings.batch_jobs(db, 1, after="-3"), BatchError, "Invalid after: -3."),
        (lambda db: listings.batch_jobs(db, 1, after="x"), BatchError, "Invalid after: x."),
        (lambda db: listings.batch_jobs(db, 1, after=NO_STR), BatchError, "Invalid after: 7."),
        (lambda db: listings.batch_jobs(db, 99), BatchError, "Batch 99 not found."),
        (lambda db: listings.job_tracking(db, 99), JobError, "Job 99 not found."),
        (lambda db: listings.batch_jobs(db, 1, status="NO"), BatchError, "Invalid status: NO."),
    ],
)
async def test_bad_arguments_are_refused(
    db: Database, call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message.replace(".", r"\.")):
        await call(db)
