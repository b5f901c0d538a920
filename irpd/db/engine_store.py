"""Typed access to the engine's named queries (sql/queries/engine.sql).

Status writes are moves decided by the machines, applied by :meth:`EngineStore.apply_moves`
(:mod:`irpd.db.moves`): one statement moves many jobs with compare-and-set on their expected
status, fenced by this worker's shard leases, and inserts their tracking-log rows.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from irpd.db.database import Database
from irpd.db.moves import Effects, Source, apply_moves, joined
from statemachines.job import JobStatus
from statemachines.moves import Move


@dataclass(frozen=True, slots=True)
class QueuedJob:
    """A job waiting to be submitted (or whose submission outcome is unknown)."""

    id: int
    batch_id: int
    batch_type: str
    configuration: dict[str, Any]
    status: str = JobStatus.INITIATED
    idempotency_key: uuid.UUID | None = None
    workflow_name: str | None = None
    attempts: int = 0
    seconds_since_intent: float = 0.0


_new_tuple = tuple.__new__

# The tracker's per-job records are named tuples: cheap to build (a frozen dataclass costs
# several microseconds each, paid 100,000 times per sweep) and transposed into the bulk
# statements' column arrays with one zip().


class InFlightJob(NamedTuple):
    """A job with a Moody's workflow to track."""

    id: int
    batch_id: int
    status: str
    workflow_id: str
    seconds_in_status: float
    poll_count: int


class Moved(NamedTuple):
    """A job whose status a batched write changed."""

    id: int
    batch_id: int
    status: str
    previous: str = ""


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """A submission Moody's accepted, as recorded."""

    id: int
    batch_id: int
    status: str
    workflow_id: str


class Report(NamedTuple):
    """One status change reported by Moody's: the move, and what else the report writes."""

    move: Move
    progress: int | None
    poll_in: float | None
    error: str | None


class Poll(NamedTuple):
    """A poll that found no status change."""

    job_id: int
    expected: str
    progress: int | None
    poll_in: float


class EngineStore:
    """The engine's reads and writes, all by named query."""

    def __init__(self, db: Database, worker_id: str) -> None:
        self.db = db
        self.worker_id = worker_id

    # --- moves ----------------------------------------------------------------------
    async def apply_moves(
        self, moves: Sequence[Move], effects: Effects, source: Source = "engine"
    ) -> list[Moved]:
        """Apply moves decided by the machines (compare-and-set + tracking-log row, one
        statement, fenced by this worker's shard leases); return those that moved."""
        rows = await apply_moves(self.db, moves, effects, source, self.worker_id)
        # every move statement returns id, batch_id, target, expected first (Moved's order);
        # the tuple built directly (a named tuple's constructors are Python calls)
        return [_new_tuple(Moved, r[:4]) for r in rows]

    async def acknowledge(self, moves: Sequence[Move], effects: Effects) -> list[Acknowledged]:
        """Apply ``acknowledge`` moves; return the jobs with their workflow ids."""
        rows = await apply_moves(self.db, moves, effects, "engine", self.worker_id)
        return [Acknowledged(r["id"], r["batch_id"], r["status"], r["workflow_id"]) for r in rows]

    # --- leases ---------------------------------------------------------------------
    async def heartbeat(self, hostname: str, pid: int, version: str) -> None:
        """Record that this worker is alive."""
        await self.db.execute("lease_heartbeat", self.worker_id, hostname, pid, version)

    async def renew(self, ttl: float) -> set[int]:
        """Extend this worker's live leases; return the shards still held."""
        return {r["shard"] for r in await self.db.fetch("lease_renew", self.worker_id, ttl)}

    async def live_workers(self, ttl: float) -> int:
        """Workers that heart-beat within ``ttl`` seconds."""
        return int(await self.db.fetchval("lease_live_workers", ttl))

    async def claim(self, ttl: float, count: int) -> set[int]:
        """Take up to ``count`` unowned or expired shards."""
        rows = await self.db.fetch("lease_claim", self.worker_id, ttl, count)
        return {r["shard"] for r in rows}

    async def release(self, shards: Sequence[int]) -> None:
        """Give shards back (rebalancing)."""
        await self.db.execute("lease_release", self.worker_id, list(shards))

    async def stop_worker(self) -> None:
        """Release every shard and mark this worker stopped (graceful shutdown)."""
        await self.db.execute("lease_stop_worker", self.worker_id)

    # --- dispatcher -----------------------------------------------------------------
    async def queued_jobs(self, shards: Sequence[int], limit: int) -> list[QueuedJob]:
        """Jobs asked to be submitted, oldest request first."""
        rows = await self.db.fetch("engine_queued_jobs", list(shards), limit)
        return [
            QueuedJob(r["id"], r["batch_id"], r["batch_type"], r["job_configuration_data"])
            for r in rows
        ]

    async def unresolved_submissions(
        self, shards: Sequence[int], exclude: Sequence[int], limit: int
    ) -> list[QueuedJob]:
        """Committed intents with no recorded workflow, due for another attempt."""
        rows = await self.db.fetch(
            "engine_unresolved_submissions", list(shards), list(exclude), limit
        )
        return [
            QueuedJob(
                id=r["id"],
                batch_id=r["batch_id"],
                batch_type=r["batch_type"],
                configuration=r["job_configuration_data"],
                status=r["status"],
                idempotency_key=r["idempotency_key"],
                workflow_name=r["workflow_name"],
                attempts=r["submission_attempts"],
                seconds_since_intent=r["seconds_since_intent"] or 0.0,
            )
            for r in rows
        ]

    async def record_workflow_ids(
        self,
        expected: str,
        acks: Sequence[tuple[int, str, dict[str, Any], dict[str, Any], float]],
    ) -> list[Acknowledged]:
        """No move: jobs still in ``expected`` (a cancel was requested while they were being
        submitted) learn their workflow id (+ request/response) so the cancel can be sent."""
        if not acks:
            return []
        ids, workflow_ids, requests, responses, polls = zip(*acks, strict=True)
        rows = await self.db.fetch(
            "engine_record_workflow_id",
            list(ids),
            expected,
            list(workflow_ids),
            list(requests),
            list(responses),
            list(polls),
            self.worker_id,
        )
        return [Acknowledged(r["id"], r["batch_id"], r["status"], r["workflow_id"]) for r in rows]

    async def record_submit_retry(self, job_id: int, error: str, retry_in: float) -> None:
        """Keep the intent; try the same key again in ``retry_in`` seconds."""
        await self.db.execute("engine_record_submit_retry", job_id, error, retry_in, self.worker_id)

    async def defer_submission(self, job_id: int, error: str, retry_in: float) -> None:
        """Nothing was sent (Moody's is unreachable): keep the intent, try in ``retry_in``."""
        await self.db.execute("engine_defer_submission", job_id, error, retry_in, self.worker_id)

    async def rekey(self, job_id: int, old_key: uuid.UUID, new_key: uuid.UUID) -> bool:
        """Replace an expired key that Moody's never acted on."""
        status = await self.db.execute("engine_rekey", job_id, new_key, old_key, self.worker_id)
        return status.endswith(" 1")

    # --- tracker --------------------------------------------------------------------
    async def in_flight(self, shards: Sequence[int]) -> list[InFlightJob]:
        """Every in-flight job of ``shards``."""
        rows = await self.db.fetch("engine_in_flight_jobs", list(shards))
        return [_in_flight(r) for r in rows]

    async def in_flight_batches(
        self, shards: Sequence[int], size: int = 5000
    ) -> AsyncIterator[list[InFlightJob]]:
        """Every in-flight job of ``shards``, ``size`` at a time."""
        async for rows in self.db.fetch_batches("engine_in_flight_jobs", list(shards), size=size):
            yield [_in_flight(r) for r in rows]

    async def job_states(self, ids: Sequence[int]) -> list[InFlightJob]:
        """Current state of specific jobs (workflow id may be empty)."""
        rows = await self.db.fetch("engine_job_states", list(ids))
        return [_in_flight(r) for r in rows]

    async def record_polls(self, polls: Sequence[Poll]) -> None:
        """Bookkeeping for polls that found no change."""
        if not polls:
            return
        # one parameter per column: (ids, expected statuses joined, progress, poll_in)
        ids, expected, progress, poll_in = zip(*polls, strict=True)
        await self.db.execute("engine_record_polls", ids, joined(expected), progress, poll_in)

    # --- lost workflows (Moody's answers without them) --------------------------------
    async def note_missing(self, jobs: Sequence[tuple[int, str]]) -> dict[int, float]:
        """Remember the first "missing" answer of ``(job id, expected status)`` pairs;
        return seconds since that first answer per job still in that status."""
        if not jobs:
            return {}
        ids, expected = zip(*jobs, strict=True)
        rows = await self.db.fetch("engine_note_missing", list(ids), list(expected), self.worker_id)
        return {r["id"]: r["seconds_missing"] for r in rows}

    async def found_again(self, ids: Sequence[int]) -> None:
        """Moody's answered for these workflows again: forget that they were missing."""
        if ids:
            await self.db.execute("engine_found_again", list(ids))

    async def missing_workflows(self, shards: Sequence[int]) -> dict[int, float]:
        """In-flight jobs of ``shards`` whose workflow is missing: seconds since first seen."""
        rows = await self.db.fetch("engine_missing_workflows", list(shards))
        return {r["id"]: r["seconds_missing"] for r in rows}

    # --- canceller ------------------------------------------------------------------
    async def cancels_to_send(
        self, shards: Sequence[int], exclude: Sequence[int], limit: int
    ) -> list[tuple[int, int, str]]:
        """(job id, batch id, workflow id) of cancels to send to Moody's."""
        rows = await self.db.fetch("engine_cancels_to_send", list(shards), list(exclude), limit)
        return [(r["id"], r["batch_id"], r["moodys_workflow_id"]) for r in rows]

    async def cancel_retry(self, job_id: int, error: str, retry_in: float) -> None:
        """Try the cancel again later."""
        await self.db.execute("engine_cancel_retry", job_id, error, retry_in)

    # --- reconciler / status --------------------------------------------------------
    async def batches_to_reconcile(self) -> list[int]:
        """Ids of batches whose outcome may need reconciling."""
        return [r["id"] for r in await self.db.fetch("engine_batches_to_reconcile")]

    async def job_counts(self) -> dict[str, int]:
        """Number of jobs by status."""
        return {r["status"]: r["n"] for r in await self.db.fetch("engine_job_counts")}


def _in_flight(r: Any) -> InFlightJob:
    # columns: id, batch_id, status, moodys_workflow_id, seconds_in_status, poll_count
    job_id, batch_id, status, workflow_id, seconds, polls = r
    return InFlightJob(job_id, batch_id, status, workflow_id or "", seconds or 0.0, polls)
