"""Batch reconciliation: the pure rule on two narrow SELECTs, logged and applied at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from typing import Any, Final

from irpd.db.conflicts import conflicts_retried
from irpd.db.database import Database, Row, TxCursor
from irpd.errors import BatchError, StaleStateError
from irpd.ops import validate
from irpd.ops.results import Reconciled
from irpd.ops.rows import plain
from statemachines.batch import BatchStatus, batch_after_recon
from statemachines.job import FAILED_JOB_STATUSES, TERMINAL_JOB_STATUSES, JobStatus
from statemachines.recon import (
    SKIPPED_KEY,
    ReconJob,
    ReconJobConfiguration,
    ReconOutcome,
    reconcile_batch,
)

#: batch statuses that set ``completed_ts`` (FAILED/CANCELLED may still be reactivated)
SETTLED_BATCH_STATUSES: Final = [
    str(BatchStatus.COMPLETED),
    str(BatchStatus.FAILED),
    str(BatchStatus.CANCELLED),
]


#: the statuses whose jobs' workflow ids a summary lists (the only ids ``recon_jobs`` reads)
_FAILED: Final = sorted(str(status) for status in FAILED_JOB_STATUSES)

#: status text → JobStatus without the enum's call machinery (once per job)
_JOB_STATUSES: Final = {status.value: status for status in JobStatus}


def _columns(rows: Iterable[Row], *names: str) -> Iterator[tuple[Any, ...]]:
    """The values of ``names`` per entry, from rows of arrays (one array per name)."""
    for row in rows:
        yield from zip(*(row[name] for name in names), strict=True)


def _reconcile_columns(config_rows: Iterable[Row], job_rows: Iterable[Row]) -> ReconOutcome:
    """The pure rule on the rows of columns of ``recon_job_configurations`` and
    ``recon_jobs``. The facts are made one at a time as the rule reads them, so at most a few
    are alive at once: 100,000 of them kept in lists were scanned by every garbage collection
    meanwhile (10-15 ms of CPU each, holding the GIL the event loop waits for)."""
    configurations = (
        ReconJobConfiguration(config_id, skipped)
        for config_id, skipped in _columns(config_rows, "ids", "skipped")
    )
    facts = (
        ReconJob(job_id, config_id, _JOB_STATUSES[status], skipped, workflow_id)
        for job_id, config_id, status, skipped, workflow_id in _columns(
            job_rows, "ids", "configuration_ids", "statuses", "skipped", "workflow_ids"
        )
    )
    return reconcile_batch(configurations, facts)


#: seconds the rule's thread waits for one 5,000-job row of the cursor
FETCH_TIMEOUT: Final = 300.0


def _streamed(cursor: TxCursor, loop: asyncio.AbstractEventLoop) -> Iterator[Row]:
    """The cursor's rows (5,000 jobs each) for the rule's thread, each read on the loop when
    the rule reaches it: decoding all 100,000 jobs' columns at once added ~15 MB to
    whatever the daemon held at that moment (the tracker's load and sweep of the same jobs),
    and the resident memory stayed that much higher (docs/performance.md, *Memory per
    tracked job*)."""
    while True:
        # bounded: a loop that stopped without closing must not hold this thread (and the
        # executor's shutdown) forever; a timeout fails this reconciliation, retried later
        row = asyncio.run_coroutine_threadsafe(cursor.fetchrow(), loop).result(FETCH_TIMEOUT)
        if row is None:
            return
        yield row


def _live_counts(state: Row) -> dict[str, int]:
    """``job_status_counts`` as a summary would list them, from the live counts."""
    counts = {str(k): int(v) for k, v in (state["counts"] or {}).items()}
    counts[SKIPPED_KEY] = int(state["skipped_jobs"])
    return counts


def _unchanged(state: Row) -> bool:
    """True when the live counts show that reconciling would change nothing: the batch's
    status is what the last recon log row computed, and that row's counts are the current
    ones. (Statuses only move forward and a skip or resubmission changes the counts, so equal
    counts mean equal jobs; an operator's `batch recon` always reconciles in full.)"""
    last = state["last_summary"]
    if state["status"] == BatchStatus.INITIATED:
        return True  # nothing to reconcile before the batch is submitted
    if last is None or state["last_result"] != state["status"]:
        return False
    return bool(
        last.get("job_status_counts") == _live_counts(state)
        and last.get("total_configs") == int(state["total_configs"])
    )


#: a batch with work in flight refreshes its logged summary at most once per this many times
#: the cost of its last full reconciliation (a 100,000-job batch spends at most ~10% of the
#: reconciler's time on it; a small one refreshes within the debounce)
SUMMARY_PACE: Final = 10.0

#: what a full reconciliation costs per job (~1 s for 100,000 jobs on the 2-core benchmark
#: machine under load, docs/performance.md): the estimate that paces the first summary refresh
#: of a batch this process has not reconciled yet. After a restart that is every batch, at the
#: moment the tracker's first sweep polls all of their jobs at once.
RECON_SECONDS_PER_JOB: Final = 1e-5


def _jobs(state: Row) -> int:
    """The batch's jobs, from the live counts."""
    return sum(_live_counts(state).values())


def _in_flight(state: Row) -> bool:
    """True when the batch is ACTIVE with non-skipped jobs not yet terminal: reconciling can
    then only refresh its summary (no FAILED or CANCELLED before they settle)."""
    # recon_state lists only statuses with jobs (HAVING sum > 0); a StrEnum set holds their text
    counts = state["counts"] or {}
    open_jobs = any(status not in TERMINAL_JOB_STATUSES for status in counts)
    return bool(state["status"] == BatchStatus.ACTIVE and open_jobs)


class Recon:
    """``recon_batch``."""

    def __init__(self, db: Database) -> None:
        self._db = db
        #: batch id → monotonic time before which its summary is not refreshed while in flight
        self._refresh_after: dict[int, float] = {}

    @conflicts_retried
    async def recon_batch(self, batch_id: int, *, only_on_change: bool = False) -> Reconciled:
        """Reconcile a batch from its jobs: one recon log row plus the batch's status
        (compare-and-set through ``batch_after_recon``), in one transaction.

        With ``only_on_change`` (the daemon's automatic reconciliations, debounced) a row is
        written only when the batch's status or its summary changes, so the last recon log
        row always matches the current counts; otherwise ``recon_log_id`` is ``None``. A
        cheap read of the live counts skips the reconciliation when nothing changed. While
        jobs are in flight the summary refresh is paced (:data:`SUMMARY_PACE`): a put-off
        refresh answers ``retry_in`` (seconds), and the daemon's reconciler comes back then.

        Returns ``status`` (what the batch now is), ``computed_status`` (what its jobs say),
        ``previous_status`` and the logged ``summary``. Cost: two SELECTs of narrow columns
        (rows of arrays of 5,000 each), whatever the number of jobs.
        """
        bid = validate.positive_id("batch_id", batch_id, BatchError)
        started = time.monotonic()
        if only_on_change:
            state = await self._db.fetchrow("recon_state", bid)
            if state is not None and bid not in self._refresh_after:
                # not reconciled by this process yet: paced on an estimate of the cost
                estimate = RECON_SECONDS_PER_JOB * _jobs(state)
                self._refresh_after[bid] = started + SUMMARY_PACE * estimate
            wait = self._refresh_after.get(bid, 0.0) - started
            unchanged = state is not None and _unchanged(state)
            deferred = state is not None and not unchanged and _in_flight(state) and wait > 0
            if state is not None and (unchanged or deferred):
                status = str(state["status"])
                return {
                    "batch_id": bid,
                    "status": status,
                    "computed_status": status,
                    "previous_status": status,
                    "recon_log_id": None,
                    "summary": None,
                    # a summary refresh put off (paced): the caller reconciles again after this
                    "retry_in": max(0.001, round(wait, 3)) if deferred else None,
                }
        try:
            result = await self._reconcile(bid, only_on_change)
        finally:
            cost = time.monotonic() - started
            self._refresh_after[bid] = time.monotonic() + SUMMARY_PACE * cost
        if result["status"] in SETTLED_BATCH_STATUSES:
            # nothing in flight to pace any more (a reactivated batch is estimated afresh)
            del self._refresh_after[bid]
        return result

    async def _reconcile(self, bid: int, only_on_change: bool) -> Reconciled:
        async with self._db.transaction() as tx:
            batch = await tx.fetchrow("batch_lock", bid)
            if batch is None:
                raise BatchError(f"Batch {bid} not found.")
            config_rows = await tx.fetch("recon_job_configurations", bid)
            jobs = await tx.cursor("recon_jobs", bid, _FAILED)
            # 100,000 jobs of pure Python work: off the event loop
            outcome = await asyncio.to_thread(
                _reconcile_columns, config_rows, _streamed(jobs, asyncio.get_running_loop())
            )
            previous = BatchStatus(batch["status"])
            target = batch_after_recon(bid, previous, outcome.status)
            last = await tx.fetchrow("recon_last", bid) if only_on_change else None
            if (
                target == previous
                and last is not None  # only_on_change, and a row to compare with
                and last["recon_summary"] == outcome.summary
                and last["recon_result"] == outcome.status
            ):
                return {
                    "batch_id": bid,
                    "status": str(previous),
                    "computed_status": str(outcome.status),
                    "previous_status": str(previous),
                    "recon_log_id": None,
                    "summary": dict(outcome.summary),
                }
            recorded = await tx.fetchrow(
                "recon_record",
                bid,
                previous,
                target,
                outcome.status,
                outcome.summary,
                SETTLED_BATCH_STATUSES,
            )
            if recorded is None:
                raise StaleStateError(f"Batch {bid} changed status during reconciliation.")
        return {
            "batch_id": bid,
            "status": recorded["status"],
            "computed_status": str(outcome.status),
            "previous_status": str(previous),
            "completed_ts": plain(recorded["completed_ts"]),
            "recon_log_id": recorded["recon_log_id"],
            "summary": dict(outcome.summary),
        }
