"""Figures 1-4 and 6 for one N: sweep and recovery, memory, control latency, throughput.

Per N: a fresh database with N SUBMITTED jobs (bulk SQL) whose N workflows exist in the fake
(frozen time: all QUEUED).

* Sweep: start ``irpd run`` with default engine settings and wait until no job is SUBMITTED.
  Every job makes one SUBMITTED → QUEUED transition. Then, with N tracked: RSS, sequential
  control calls, event-loop lag.
* Throughput: stop, advance the fake's clock (all workflows now RUNNING), restart with
  ``IRPD_ENGINE_RECOVERY_SPREAD=0`` so every job is due at once, and wait until none is
  QUEUED: N QUEUED → RUNNING transitions as fast as the daemon can commit them. Then the
  daemon's bulk statement alone on the same jobs (bench/pgonly.py) and
  ``pgbench -N -c 2 -j 2`` on the same database.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from bench import benchdb, logscan
from bench.benchdb import BenchDb
from bench.cpu import CpuTrace
from bench.daemon import PHASE_ERRORS, Daemon, DaemonError, Memory
from bench.fake_client import STATUS_LIST
from bench.figures import (
    ControlFigures,
    MemoryFigures,
    SizeResult,
    SweepFigures,
    ThroughputFigures,
    percentile,
    rounded,
)
from bench.pgbench import run_pgbench_async
from bench.pgonly import statement_alone
from bench.rig import Rig, loop_lag, since_start

#: simulated seconds after which every seeded USER_DEFINED workflow is RUNNING
#: (queued ≤ 20 s, pending ≤ 60 s, running ≥ 900 s by the fake's default durations)
ADVANCE_TO_RUNNING = 300.0
THROUGHPUT_OVERRIDES = {"IRPD_ENGINE_RECOVERY_SPREAD": "0"}
MB = 1024 * 1024


async def baseline_memory(rig: Rig) -> Memory:
    """RSS of a daemon tracking nothing (empty database), 2 s after it is ready."""
    dsn = await benchdb.fresh_database(rig.server.admin_dsn, "empty")
    daemon = rig.daemon(dsn, "baseline")
    try:
        daemon.start()
        await daemon.wait_event("irpd_ready", rig.options.phase_timeout)
        await asyncio.sleep(2.0)
        return daemon.memory()
    finally:
        await daemon.stop()
        if not rig.options.keep_databases:
            await benchdb.drop(rig.server.admin_dsn, dsn)


def sample_control(daemon: Daemon, batch_id: int, calls: int) -> ControlFigures:
    """``calls`` × (``batch show``, ``status``), sequential; blocking."""
    show: list[float] = []
    status: list[float] = []
    for _ in range(calls):
        started = time.perf_counter()
        daemon.call("batch.show", {"batch_id": batch_id})
        show.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        daemon.call("status")
        status.append((time.perf_counter() - started) * 1000)
    return ControlFigures(
        calls,
        rounded(percentile(show, 50), 2),
        rounded(percentile(show, 99), 2),
        rounded(percentile(status, 50), 2),
        rounded(percentile(status, 99), 2),
    )


async def _wait_for_transitions(
    rig: Rig, db: BenchDb, daemon: Daemon, batch_id: int, leaving: str
) -> None:
    done = await db.wait_until_none_in(
        batch_id, [leaving], timeout=rig.options.phase_timeout, alive=daemon.alive
    )
    if not done:
        left = await db.jobs_in_status(batch_id, [leaving])
        state = "exited" if not daemon.alive() else "still running"
        raise DaemonError(
            f"{left} jobs still {leaving} after {rig.options.phase_timeout} s (irpd {state}):\n"
            + logscan.tail(daemon.log, 10)
        )


async def sweep_phase(
    rig: Rig, db: BenchDb, dsn: str, batch_id: int, jobs: int, baseline: Memory | None
) -> tuple[SweepFigures, MemoryFigures, ControlFigures]:
    """Start with N SUBMITTED jobs; measure the first sweep, then memory and control."""
    mark = (await rig.fake.requests()).last_seq
    daemon = rig.daemon(dsn, f"n{jobs}-sweep")
    meter = rig.cpu_meter(db)
    await meter.start()
    started = daemon.start()
    try:
        with rig.profiling(daemon, f"n{jobs}-sweep"):
            await _wait_for_transitions(rig, db, daemon, batch_id, "SUBMITTED")
        cpu = await meter.stop(daemon.pid)
        span = await db.transitions("SUBMITTED", "QUEUED", batch_id)
        seen = await rig.fake.requests(mark, until=span.last_ts)
        status = await rig.status(daemon)
        memory = daemon.memory()
        steady_mark = (await rig.fake.requests()).last_seq
        steady_meter = rig.cpu_meter(db)
        await steady_meter.start(daemon.pid)
        with rig.profiling(daemon, f"n{jobs}-control"):
            latencies = await asyncio.to_thread(
                sample_control, daemon, batch_id, rig.options.control_calls
            )
        steady_cpu = await steady_meter.stop(daemon.pid)
        steady = await rig.fake.requests(steady_mark)
    finally:
        await daemon.stop()
    control = replace(
        latencies,
        tracking_status_requests=steady.count(STATUS_LIST),
        tracking_ids_requested=steady.ids_requested,
        tracking_cpu=steady_cpu,
    )
    first_poll = seen.first_wall
    last = span.last_ts
    status_requests = seen.count(STATUS_LIST)
    sweep = SweepFigures(
        transitions=span.count,
        start_to_ready_s=since_start(logscan.first_event(daemon.log, "irpd_ready"), started),
        start_to_loaded_s=since_start(logscan.first_event(daemon.log, "tracker_loaded"), started),
        start_to_first_full_sweep_s=rounded(None if last is None else last - started),
        sweep_s=rounded(None if last is None or first_poll is None else last - first_poll),
        status_requests=status_requests,
        ids_requested=seen.ids_requested,
        other_requests=seen.requests - status_requests,
        loop_lag=loop_lag(status),
        cpu=cpu,
        log_lines=logscan.line_count(daemon.log),
        log_lines_max_30s=logscan.max_lines_per_window(daemon.log),
    )
    base = baseline.rss if baseline is not None else None
    memory_figures = MemoryFigures(
        rss_mb=round(memory.rss / MB, 1),
        peak_rss_mb=round(memory.peak / MB, 1),
        baseline_rss_mb=None if base is None else round(base / MB, 1),
        bytes_per_job=None if base is None else round((memory.rss - base) / jobs, 1),
    )
    return sweep, memory_figures, control


async def throughput_phase(
    rig: Rig, db: BenchDb, dsn: str, batch_id: int, jobs: int
) -> ThroughputFigures:
    """Restart with all N due at once while Moody's reports RUNNING; then pgbench."""
    await rig.fake.advance(ADVANCE_TO_RUNNING)
    # as before the statement alone: the sweep's 100,000 dead rows are not left to the
    # daemon's writes (the shared server may run with autovacuum off)
    await db.vacuum_jobs()
    mark = (await rig.fake.requests()).last_seq
    daemon = rig.daemon(dsn, f"n{jobs}-throughput", THROUGHPUT_OVERRIDES)
    meter = rig.cpu_meter(db)
    await meter.start()
    started = daemon.start()
    trace = CpuTrace({"daemon": daemon.pid, "fake": rig.fake.pid})
    trace.start()
    try:
        with rig.profiling(daemon, f"n{jobs}-throughput"):
            await _wait_for_transitions(rig, db, daemon, batch_id, "QUEUED")
        cpu = await meter.stop(daemon.pid)
        await trace.stop()
        span = await db.transitions("QUEUED", "RUNNING")
        seen = await rig.fake.requests(mark, until=span.last_ts)
        status = await rig.status(daemon)
    finally:
        await daemon.stop()
    requests = seen.count(STATUS_LIST)
    alone = await statement_alone(db, dsn, batch_id)
    pgbench = await run_pgbench_async(
        dsn, scale=rig.options.pgbench_scale, seconds=rig.options.pgbench_seconds
    )
    seconds = (
        None if span.last_ts is None or seen.first_wall is None else span.last_ts - seen.first_wall
    )
    rate = span.count / seconds if seconds else None

    def per_transition(name: str) -> float | None:
        spent = trace.between(name, seen.first_wall, span.last_ts)
        return None if spent is None or not span.count else round(1e6 * spent / span.count, 1)

    return ThroughputFigures(
        transitions=span.count,
        seconds=rounded(seconds),
        transitions_per_second=rounded(rate, 1),
        status_requests=requests,
        start_to_loaded_s=since_start(logscan.first_event(daemon.log, "tracker_loaded"), started),
        pgbench_tps=rounded(pgbench.tps, 1),
        ratio_to_pgbench=rounded(rate / pgbench.tps if rate and pgbench.tps else None, 2),
        statement_alone_per_second=rounded(alone, 1),
        ratio_to_statement_alone=rounded(rate / alone if rate and alone else None, 3),
        loop_lag=loop_lag(status),
        cpu=cpu,
        daemon_us_per_transition=per_transition("daemon"),
        fake_us_per_transition=per_transition("fake"),
        log_lines_max_30s=logscan.max_lines_per_window(daemon.log),
    )


async def measure_size(rig: Rig, jobs: int, baseline: Memory | None) -> SizeResult:
    """Every tracking figure for ``jobs`` in-flight jobs, on a fresh database."""
    dsn = await benchdb.fresh_database(rig.server.admin_dsn, f"n{jobs}")
    db = await BenchDb.connect(dsn)
    errors: list[str] = []
    seed_seconds = sweep = memory = control = throughput = None
    try:
        started = time.perf_counter()
        first_id = await rig.fake.create_workflows(jobs)
        batch_id = await db.seed_in_flight(jobs, first_id)
        seed_seconds = round(time.perf_counter() - started, 2)
        try:
            sweep, memory, control = await sweep_phase(rig, db, dsn, batch_id, jobs, baseline)
            throughput = await throughput_phase(rig, db, dsn, batch_id, jobs)
        except PHASE_ERRORS as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await db.close()
        if not rig.options.keep_databases:
            await benchdb.drop(rig.server.admin_dsn, dsn)
    return SizeResult(jobs, seed_seconds, sweep, memory, control, throughput, tuple(errors))
