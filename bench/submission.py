"""Figure 5: submitting a multi_job batch with the default concurrency limits.

A fresh database holds a VALID configuration whose jobs list has ``jobs`` items. The daemon
(default settings, the benchmark's client rate limit) creates the batch through the control
socket (not timed); the clock starts at ``batch.submit`` and stops when the last job's
SUBMITTING → SUBMITTED transition is written.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import benchdb, logscan
from bench.benchdb import BenchDb
from bench.daemon import PHASE_ERRORS
from bench.fake_client import USER_WORKFLOW
from bench.figures import LoopLag, SubmissionFigures, rounded
from bench.rig import Rig, loop_lag

UNSUBMITTED = ("INITIATED", "SUBMITTING")


async def measure_submission(rig: Rig, jobs: int) -> SubmissionFigures:
    """Submit ``jobs`` jobs and measure time and requests per job."""
    dsn = await benchdb.fresh_database(rig.server.admin_dsn, "submit")
    db = await BenchDb.connect(dsn)
    daemon = rig.daemon(dsn, "submission")
    try:
        configuration = await db.seed_submission(jobs)
        daemon.start()
        await daemon.wait_event("irpd_ready", rig.options.phase_timeout)
        created: dict[str, Any] = await asyncio.to_thread(
            daemon.call,
            "batch.create",
            {"batch_type": "multi_job", "configuration_id": configuration},
        )
        batch_id = int(created["batch_id"])
        mark = (await rig.fake.requests()).last_seq
        ledger_mark = (await rig.fake.ledger()).last_seq
        meter = rig.cpu_meter(db)
        await meter.start(daemon.pid)
        started = time.time()
        with rig.profiling(daemon, "submission"):
            await asyncio.to_thread(daemon.call, "batch.submit", {"batch_id": batch_id})
            done = await db.wait_until_none_in(
                batch_id, UNSUBMITTED, timeout=rig.options.phase_timeout, alive=daemon.alive
            )
        cpu = await meter.stop(daemon.pid)
        span = await db.transitions("SUBMITTING", "SUBMITTED")
        seen = await rig.fake.requests(mark, until=span.last_ts)
        ledger = await rig.fake.ledger(ledger_mark)
        status = await rig.status(daemon) if daemon.alive() else {}
    except PHASE_ERRORS as exc:
        return _failed(jobs, f"{type(exc).__name__}: {exc}")
    finally:
        await daemon.stop()
        await db.close()
        if not rig.options.keep_databases:
            await benchdb.drop(rig.server.admin_dsn, dsn)
    errors: tuple[str, ...] = ()
    if not done:
        errors = (f"not all {jobs} jobs SUBMITTED within {rig.options.phase_timeout} s",)
    seconds = None if span.last_ts is None or not done else span.last_ts - started
    submits = seen.count(USER_WORKFLOW)
    return SubmissionFigures(
        jobs=jobs,
        seconds=rounded(seconds),
        submissions_per_second=rounded(span.count / seconds if seconds else None, 1),
        submit_requests=submits,
        other_requests=seen.requests - submits,
        poll_ids_requested=seen.ids_requested,
        requests_per_job=rounded(submits / jobs if jobs else None, 3),
        replays=ledger.replays,
        loop_lag=loop_lag(status),
        cpu=cpu,
        log_lines_max_30s=logscan.max_lines_per_window(daemon.log),
        errors=errors,
    )


def _failed(jobs: int, error: str) -> SubmissionFigures:
    return SubmissionFigures(
        jobs, None, None, None, None, None, None, None, LoopLag(), None, 0, errors=(error,)
    )
