"""The daemon's Prometheus metrics: sampled on the event loop, served from a thread.

Scrapes never touch the engine's data structures or the database. A task on the event loop
(:meth:`EngineMetrics.sample`) turns what the engine keeps in memory into metric families once
a second, and the job and batch counts from small tables (the live batch counts of migration
0014) and the jobs past their expected run time (:mod:`irpd.monitoring.stuck`) every
``metrics.database_refresh`` seconds; the exporter thread returns the last sample.
Only two values are computed at scrape time, from plain numbers: how long ago the event loop
last ran (a stalled loop stops sampling, and this keeps growing) and the sample's age.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)

import irpd
from irpd.db.database import Database, DatabaseUnavailable, Row
from irpd.engine.engine import Engine
from irpd.engine.leases import SHARDS
from irpd.monitoring.stuck import RunTimeExpectations, StuckJobs
from irpd.moodys.client import MoodysClient

#: latency buckets of Moody's requests (seconds)
LATENCY_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_ID_SEGMENT = re.compile(r"^(?:\d+|[0-9a-fA-F-]{32,36})$")


def endpoint_class(method: str, path: str) -> str:
    """``GET /riskmodeler/v1/workflows/{id}``: the method and the path with ids replaced."""
    parts = ["{id}" if _ID_SEGMENT.match(p) else p for p in path.split("?", 1)[0].split("/")]
    return f"{method} {'/'.join(parts)}"


class MoodysRequestMetrics:
    """The Moody's transport's observer: one latency sample per HTTP attempt."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "irpd_moodys_request_duration_seconds",
            "Moody's HTTP attempts by endpoint class and HTTP status (or timeout, connection, "
            "tls): seconds from sending to the answer; _count counts the requests",
            ["endpoint", "code"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        )
        self._classes: dict[tuple[str, str], str] = {}

    def __call__(self, method: str, path: str, code: str, seconds: float) -> None:
        key = (method, path)
        endpoint = self._classes.get(key)
        if endpoint is None:
            endpoint = endpoint_class(method, path)
            if len(self._classes) < 10_000:
                self._classes[key] = endpoint
        self.latency.labels(endpoint, code).observe(seconds)


@dataclass
class DatabaseCounts:
    """The last read of the small count tables (kept while the database is unavailable)."""

    jobs: list[Row] = field(default_factory=list)
    batches: list[Row] = field(default_factory=list)
    read_at: float = 0.0


class EngineMetrics:
    """A prometheus_client collector over the engine's state (sampled on the event loop)."""

    def __init__(
        self,
        engine: Engine,
        moodys: MoodysClient,
        db: Database,
        *,
        database_refresh: float = 15.0,
        expectations: RunTimeExpectations,
    ) -> None:
        self._engine = engine
        self._moodys = moodys
        self._db = db
        self._database_refresh = database_refresh
        #: jobs past their expected run time (counted when the database counts are read)
        self.stuck = StuckJobs(engine.tracker.schedule, db, expectations)
        #: more families to sample (e.g. the notification outbox's), each a callable
        self.extra: list[Callable[[], Iterable[Metric]]] = []
        self._counts = DatabaseCounts()
        self._families: list[Metric] = []
        self._sampled_at = time.monotonic()
        self._lock = threading.Lock()

    # --- on the event loop -------------------------------------------------------------
    async def run(self, interval: float = 1.0) -> None:
        """Sample forever (a supervised task)."""
        while True:
            await self.sample()
            await asyncio.sleep(interval)

    async def sample(self) -> None:
        """Read the database counts when due, then rebuild every family from memory."""
        if time.monotonic() - self._counts.read_at >= self._database_refresh:
            await self._read_counts()
            await self.stuck.refresh()
        families = [*self._engine_families(), *self._moodys_families(), *self._db_families()]
        families.extend(self.stuck.families())
        for more in self.extra:
            families.extend(more())
        with self._lock:
            self._families = families
            self._sampled_at = time.monotonic()

    async def _read_counts(self) -> None:
        try:
            jobs = await self._db.fetch("metrics_job_counts")
            batches = await self._db.fetch("metrics_batch_counts")
        except DatabaseUnavailable:
            return  # keep the last counts; irpd_database_available says why
        self._counts = DatabaseCounts(jobs, batches, read_at=time.monotonic())

    def _engine_families(self) -> list[Metric]:
        engine = self._engine
        tracker, dispatcher = engine.tracker, engine.dispatcher
        jobs = GaugeMetricFamily(
            "irpd_jobs",
            "Jobs by batch type and status (not skipped), from the live batch counts",
            labels=["batch_type", "status"],
        )
        for row in self._counts.jobs:
            jobs.add_metric([row["batch_type"], row["status"]], row["n"])
        batches = GaugeMetricFamily(
            "irpd_batches", "Batches by batch type and status", labels=["batch_type", "status"]
        )
        for row in self._counts.batches:
            batches.add_metric([row["batch_type"], row["status"]], row["n"])
        transitions = CounterMetricFamily(
            "irpd_job_transitions",
            "Job status changes committed by this daemon, by target status",
            labels=["to"],
        )
        for status, count in sorted(engine.events.total.items()):
            transitions.add_metric([status], count)
        submissions = CounterMetricFamily(
            "irpd_submissions",
            "Submission attempts by outcome (accepted, refused, retry, deferred, abandoned)",
            labels=["outcome"],
        )
        for outcome, count in sorted(dispatcher.outcomes.items()):
            submissions.add_metric([outcome], count)
        polls = CounterMetricFamily(
            "irpd_status_polls",
            "Jobs whose status was looked up at Moody's, by outcome (answered, failed)",
            labels=["outcome"],
        )
        polls.add_metric(["answered"], tracker.polled)
        polls.add_metric(["failed"], tracker.poll_failures)
        next_due = tracker.schedule.next_due()
        overdue = 0.0 if next_due is None else max(0.0, time.monotonic() - next_due)
        sweeps = SummaryMetricFamily(
            "irpd_tracker_sweep_duration_seconds",
            "Tracker sweeps (status lookups of every due job) and the seconds they took",
            count_value=tracker.sweeps,
            sum_value=tracker.sweep_seconds,
        )
        lag = GaugeMetricFamily(
            "irpd_event_loop_lag_seconds",
            "How late the event loop woke a sleeping task, over the last minute",
            labels=["quantile"],
        )
        for quantile, key in (("0.5", "p50_ms"), ("0.99", "p99_ms"), ("1", "max_ms")):
            lag.add_metric([quantile], engine.loop_lag.percentiles()[key] / 1000)
        return [
            jobs,
            batches,
            transitions,
            submissions,
            polls,
            sweeps,
            lag,
            _gauge("irpd_jobs_tracked", "In-flight jobs this daemon polls", len(tracker.schedule)),
            _gauge(
                "irpd_submissions_in_flight",
                "Submissions sent or about to be sent whose outcome is not yet written",
                dispatcher.in_flight,
            ),
            _gauge(
                "irpd_oldest_due_poll_age_seconds",
                "How long the most overdue status poll has been due (0: none overdue)",
                overdue,
            ),
            _gauge(
                "irpd_tracker_last_sweep_duration_seconds",
                "Seconds the last tracker sweep took",
                tracker.last_sweep_seconds,
            ),
            _counter(
                "irpd_batches_reconciled",
                "Batch status changes made by the reconciler",
                engine.reconciler.reconciled,
            ),
            _gauge(
                "irpd_shards_owned",
                "Work shards whose lease this daemon holds",
                len(engine.leases.usable()),
            ),
            _gauge("irpd_shards", "Work shards in all (split among the daemons)", SHARDS),
        ]

    def _moodys_families(self) -> list[Metric]:
        stats = self._moodys.stats()
        concurrency = self._moodys.settings.concurrency
        health = self._moodys.health
        limits = GaugeMetricFamily(
            "irpd_moodys_concurrency_limit",
            "Moody's requests allowed in flight at once, by kind",
            labels=["kind"],
        )
        limits.add_metric(["submission"], concurrency.submissions)
        limits.add_metric(["read"], concurrency.status_reads)
        limits.add_metric(["status_adaptive"], self._moodys.status_parallelism())
        limits.add_metric(["submission_adaptive"], self._moodys.submission_parallelism())
        in_flight = GaugeMetricFamily(
            "irpd_moodys_requests_in_flight", "Moody's requests in flight, by kind", labels=["kind"]
        )
        in_flight.add_metric(["submission"], stats.in_flight_submissions)
        in_flight.add_metric(["read"], stats.in_flight_reads)
        answered = self._engine.tracker.moodys_health.last_ok
        since = None if answered is None else time.monotonic() - answered
        families: list[Metric] = [
            limits,
            in_flight,
            _counter(
                "irpd_moodys_rate_limited", "429 answers from Moody's", stats.rate_limited
            ),
            _counter("irpd_moodys_retries", "Moody's requests sent again", stats.retries),
            _counter(
                "irpd_moodys_request_failures",
                "Moody's requests given up (permanent error or retries exhausted)",
                stats.failures,
            ),
            _gauge(
                "irpd_moodys_request_rate_limit",
                "The adaptive limiter's current rate (requests per second; halved on 429)",
                stats.current_rate,
            ),
            _gauge(
                "irpd_moodys_reachable",
                "0 while Moody's is unreachable (connection errors, timeouts, 5xx), else 1",
                0.0 if health.reachable is False else 1.0,
            ),
            _gauge(
                "irpd_moodys_circuit_open",
                "1 while the circuit breaker holds requests back (Moody's outage)",
                1.0 if health.circuit.is_open else 0.0,
            ),
            _gauge(
                "irpd_moodys_authentication_failing",
                "1 while Moody's refuses the credentials (401/403), else 0",
                1.0 if health.auth_ok is False else 0.0,
            ),
        ]
        if since is not None:
            families.append(
                _gauge(
                    "irpd_moodys_seconds_since_answer",
                    "Seconds since a status lookup last got an answer",
                    since,
                )
            )
        return families

    def _db_families(self) -> list[Metric]:
        health = self._engine.health
        size, idle, maximum = self._db.pool_use()
        pool = GaugeMetricFamily(
            "irpd_database_pool_connections",
            "The connection pool's open connections by state",
            labels=["state"],
        )
        pool.add_metric(["busy"], size - idle)
        pool.add_metric(["idle"], idle)
        return [
            pool,
            _gauge("irpd_database_pool_max_connections", "The pool's maximum size", maximum),
            _gauge(
                "irpd_database_available",
                "1 while PostgreSQL answers, 0 during an outage",
                1.0 if health.available else 0.0,
            ),
            _gauge(
                "irpd_database_seconds_since_ok",
                "Seconds since a database call last succeeded",
                time.monotonic() - health.last_ok,
            ),
            _counter("irpd_database_outages", "Database outages since start", health.outages),
            _gauge(
                "irpd_database_degraded_statements",
                "Kinds of statement PostgreSQL keeps refusing (privilege, schema, constraint)",
                len(health.degraded),
            ),
            _gauge(
                "irpd_database_counts_age_seconds",
                "Age of the job and batch counts read from the database",
                time.monotonic() - self._counts.read_at if self._counts.read_at else -1.0,
            ),
        ]

    # --- in the exporter thread -----------------------------------------------------------
    def collect(self) -> Iterable[Metric]:
        """The last sample, plus the loop's heartbeat age computed now."""
        with self._lock:
            families, sampled_at = self._families, self._sampled_at
        now = time.monotonic()
        yield _gauge(
            "irpd_event_loop_last_beat_age_seconds",
            "Seconds since the event loop last completed a lag sample (grows while it stalls)",
            max(0.0, now - self._engine.loop_lag.last_beat),
        )
        yield _gauge(
            "irpd_metrics_sample_age_seconds", "Age of the metrics sample", now - sampled_at
        )
        info = GaugeMetricFamily("irpd_build_info", "irpd's version", labels=["version"])
        info.add_metric([irpd.__version__], 1)
        yield info
        yield from families


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)
