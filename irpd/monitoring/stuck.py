"""Jobs stuck beyond their batch type's expected run time, from the tracker's memory.

The tracker keeps, for every in-flight job, its batch and since when it has had its status
(``TrackedJob.since``: from the database's ``status_changed_ts`` at load, then each change it
makes). Every ``metrics.database_refresh`` seconds :meth:`StuckJobs.refresh` walks that list in
slices (the loop gets a turn every :data:`SLICE` jobs; a copy of the list is walked, never the
schedule itself) and counts, per batch type, the jobs that have kept their status longer than
the type's expected run time (``metrics.expected_run_time``, ``metrics.expected_run_times``),
and the oldest such age. The batch types come from primary-key reads of the batches not seen
before (a batch's type never changes). No scrape touches any of this, and nothing scans
``irp_job``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric

from irpd.db.database import Database, DatabaseUnavailable
from irpd.engine.schedule import PollSchedule

#: tracked jobs walked between two turns of the event loop (under a millisecond each)
SLICE = 2_000


@dataclass(frozen=True, slots=True)
class RunTimeExpectations:
    """Seconds an in-flight job of each batch type may keep its status before it is stuck."""

    default: float
    by_type: Mapping[str, float]

    def of(self, batch_type: str) -> float:
        """The expectation of ``batch_type``."""
        return self.by_type.get(batch_type, self.default)


@dataclass(slots=True)
class TypeAges:
    """One batch type's in-flight jobs: how many are past expectation, and since when the
    oldest has kept its status."""

    over: int
    oldest_since: float


class StuckJobs:
    """Per batch type: in-flight jobs past their expected run time, and the oldest one's age."""

    def __init__(
        self,
        schedule: PollSchedule,
        db: Database,
        expectations: RunTimeExpectations,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._schedule = schedule
        self._db = db
        self.expectations = expectations
        self._clock = clock
        #: batch id -> batch type, for the batches of the tracked jobs
        self._types: dict[int, str] = {}
        self.by_type: dict[str, TypeAges] = {}

    async def refresh(self) -> None:
        """Recount from the tracked jobs (a few milliseconds per 100,000, in slices)."""
        jobs = self._schedule.jobs()
        batches: set[int] = set()
        for start in range(0, len(jobs), SLICE):
            await asyncio.sleep(0)
            batches.update(job.batch_id for job in jobs[start : start + SLICE])
        await self._learn_types(batches)
        now = self._clock()
        found: dict[str, TypeAges] = {}
        for start in range(0, len(jobs), SLICE):
            await asyncio.sleep(0)
            for job in jobs[start : start + SLICE]:
                batch_type = self._types.get(job.batch_id)
                if batch_type is None:
                    continue  # its batch could not be read (the database is unavailable)
                ages = found.get(batch_type)
                if ages is None:
                    ages = found[batch_type] = TypeAges(0, job.since)
                if now - job.since > self.expectations.of(batch_type):
                    ages.over += 1
                ages.oldest_since = min(ages.oldest_since, job.since)
        self.by_type = found

    async def _learn_types(self, batches: set[int]) -> None:
        self._types = {b: t for b, t in self._types.items() if b in batches}
        unknown = sorted(batches - self._types.keys())
        if not unknown:
            return
        try:
            rows = await self._db.fetch("metrics_batch_types", unknown)
        except DatabaseUnavailable:
            return  # counted at the next refresh; irpd_database_available says why
        self._types.update((row["id"], row["batch_type"]) for row in rows)

    def families(self) -> list[Metric]:
        """The gauges, with the oldest ages as of now."""
        now = self._clock()
        over = GaugeMetricFamily(
            "irpd_jobs_over_expected_run_time",
            "In-flight jobs that have kept their status longer than their batch type's "
            "expected run time (metrics.expected_run_time[s])",
            labels=["batch_type"],
        )
        oldest = GaugeMetricFamily(
            "irpd_oldest_in_flight_job_age_seconds",
            "Seconds the in-flight job of this batch type that changed status longest ago has "
            "kept its status",
            labels=["batch_type"],
        )
        expected = GaugeMetricFamily(
            "irpd_job_expected_run_time_seconds",
            "The expected run time of the batch type's jobs (configuration)",
            labels=["batch_type"],
        )
        for batch_type, ages in sorted(self.by_type.items()):
            over.add_metric([batch_type], ages.over)
            oldest.add_metric([batch_type], max(0.0, now - ages.oldest_since))
            expected.add_metric([batch_type], self.expectations.of(batch_type))
        return [over, oldest, expected]
