"""Workflows Moody's no longer knows: counted from the first "missing" answer, then given up.

A status lookup that comes back without a job's workflow (Moody's restored a backup, purged
it, or a tenant was reset) says nothing about the job. One such answer may be a glitch; an
answer that stays "missing" for ``engine.lost_workflow_after`` seconds is a decision: the job
becomes ERROR (trigger ``declare_lost`` of the job machine) with ``last_error`` saying so, its
batch reconciles, and the operator can resubmit it. The first "missing" answer is stored on
the job (``moodys_missing_since``), so a restart does not start the count again; any answer
that includes the workflow clears it. Normally nothing is missing: this costs nothing then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog

from irpd.db.database import DatabaseUnavailable
from irpd.db.engine_store import EngineStore, Moved
from irpd.db.moves import lost as lost_effects
from irpd.engine.schedule import TrackedJob
from statemachines.job import JOB_LIFECYCLE

log = structlog.get_logger("irpd.tracker")

T = TypeVar("T")


class LostWorkflows:
    """Which tracked jobs' workflows are missing, since when, and which to give up."""

    def __init__(
        self,
        store: EngineStore,
        lost_after: float,
        *,
        db_retry_max: float = 10.0,
    ) -> None:
        self._store = store
        self.lost_after = lost_after
        self._db_retry_max = db_retry_max
        #: job id → monotonic time of the first "missing" answer
        self._since: dict[int, float] = {}

    def reconfigure(self, lost_after: float, *, db_retry_max: float) -> None:
        """New settings (SIGHUP); the workflows already missing keep their "since"."""
        self.lost_after = lost_after
        self._db_retry_max = db_retry_max

    def __bool__(self) -> bool:
        return bool(self._since)

    def __contains__(self, job_id: object) -> bool:
        return job_id in self._since

    async def load(self, shards: Sequence[int], now: float) -> None:
        """Take the persisted "missing since" of the owned shards' jobs (at each resync)."""
        found = await self._store.missing_workflows(shards) if shards else {}
        self._since = {job_id: now - seconds for job_id, seconds in found.items()}

    async def found_again(self, job_ids: Sequence[int]) -> None:
        """Moody's answered for these jobs' workflows: the count starts over."""
        for job_id in job_ids:
            self._since.pop(job_id, None)
        await self._retrying(lambda: self._store.found_again(job_ids))

    async def missing(self, jobs: Sequence[TrackedJob], now: float) -> list[Moved]:
        """Record a "missing" answer for ``jobs``; give up those missing long enough.

        Returns the jobs moved to ERROR (committed, with their tracking-log rows)."""
        new = [(j.id, j.status) for j in jobs if j.id not in self._since]
        if new:
            seconds = await self._retrying(lambda: self._store.note_missing(new))
            for job_id, elapsed in seconds.items():
                self._since[job_id] = now - elapsed
        due = [j for j in jobs if now - self._since.get(j.id, now) >= self.lost_after]
        if not due:
            return []
        reasons = [self.reason(j, now) for j in due]
        moves = [
            JOB_LIFECYCLE.move(
                j.id, j.status, "declare_lost", {"trigger": "declare_lost", "error": why}
            )
            for j, why in zip(due, reasons, strict=True)
        ]
        moved = await self._retrying(
            lambda: self._store.apply_moves(moves, lost_effects(reasons, self.lost_after))
        )
        for row in moved:
            self._since.pop(row.id, None)
        if moved:
            log.error(
                "moodys_workflow_lost",
                jobs=len(moved),
                job_ids=[row.id for row in moved[:20]],
                example_workflow_id=due[0].workflow_id,
                lost_after=self.lost_after,
            )
        return moved

    def next_check_in(self, job: TrackedJob, now: float, regular: float) -> float:
        """Seconds until a missing job is looked at again: its regular delay, but no later
        than just after the moment it would be given up."""
        remaining = self.lost_after - (now - self._since.get(job.id, now))
        return max(0.1, min(regular, remaining + 0.1))

    def reason(self, job: TrackedJob, now: float) -> str:
        """``last_error`` of a job given up (the operator reads it in ``job show``)."""
        elapsed = now - self._since.get(job.id, now)
        first = datetime.now(UTC) - timedelta(seconds=elapsed)
        return (
            f"workflow {job.workflow_id} is unknown to Moody's: status lookups have not "
            f"returned it since {first.isoformat(timespec='seconds')} "
            f"({elapsed:.0f} s, engine.lost_workflow_after {self.lost_after:g} s); "
            "resubmit the job to run it again"
        )

    async def _retrying(self, call: Callable[[], Awaitable[T]]) -> T:
        backoff = 0.5
        while True:
            try:
                return await call()
            except DatabaseUnavailable:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._db_retry_max)
