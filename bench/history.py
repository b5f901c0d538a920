"""``python -m bench.history``: does a long history slow the live path, and what does retiring
an archived cycle cost? (issue 17; docs/performance.md, *History*).

    python -m bench.history [--history-jobs 1000000] [--cycle-jobs 25000] [--live-jobs 10000]
                            [--rounds N] [--keep-database | --reuse DSN] [--no-retire]

Two fresh databases, each with a live batch of ``--live-jobs`` SUBMITTED jobs (workflows in the
fake): one without history, one with ``--history-jobs`` FINISHED jobs in ARCHIVED cycles of
``--cycle-jobs`` each (a job configuration with ~300 bytes of JSON, five tracking rows and a
recon row per batch: about what a finished job leaves). On both, ``--rounds`` times in turn (a
fresh no-history database and a new live batch in the history database each round, the history
first in every other round, so that the machine's load weighs on both alike; the job tables are
vacuumed before each, as autovacuum would have done): the sweep phase of ``bench.run`` (start →
ready / loaded, first sweep, memory, ``--control-calls`` × batch show and status, with the
daemon's and PostgreSQL's CPU per phase), then the live batch's report (``irp_job_report`` of
the batch, and the first page of ``report.jobs``) on its own connection: wall time, the
backend's CPU and the buffers it touched (the last two do not depend on the machine's load).
Then, on the history database, with the daemon tracking a live batch: ``irpd cycle export`` and
``irpd cycle purge`` of the oldest archived cycle (its own process), with ``status`` sampled
meanwhile and the daemon's loop lag read before and after.

Seeding 1,000,000 jobs takes a few minutes (about 1.7 KB per job, 1.7 GB); 10,000,000 is
``--history-jobs 10000000`` (ten times the time and ~17 GB of disk). ``--keep-database`` keeps
the seeded database and prints its DSN; ``--reuse DSN`` measures on it again without seeding.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg

from bench import benchdb, logscan
from bench.benchdb import BenchDb
from bench.cpu import CpuFigures, process_cpu
from bench.daemon import Daemon
from bench.fake_client import FakeProcess
from bench.figures import percentile, rounded
from bench.rig import Options, Rig, loop_lag
from bench.tracking import sweep_phase
from irpd.logs import configure_logging

HISTORY_CYCLE = """
WITH cycle AS (
    INSERT INTO irp_cycle (cycle_name, status, created_ts, archived_ts)
    VALUES ($1, 'ARCHIVED', now() - make_interval(days => $2), now() - make_interval(days => $2))
    RETURNING id
), configuration AS (
    INSERT INTO irp_configuration (cycle_id, configuration_file_name, configuration_data, status)
    SELECT id, 'history.xlsx', '{}'::jsonb, 'ACTIVE' FROM cycle RETURNING id
)
INSERT INTO irp_batch (configuration_id, batch_type, status, submitted_ts, completed_ts)
SELECT id, 'multi_job', 'COMPLETED', now() - make_interval(days => $2),
       now() - make_interval(days => $2)
  FROM configuration RETURNING id
"""
HISTORY_ROWS = [
    """
INSERT INTO irp_job_configuration (batch_id, configuration_id, job_configuration_data)
SELECT b.id, b.configuration_id,
       jsonb_build_object('job_key', 'history-' || g, 'batch_type', 'multi_job',
                          'settings', repeat('x', 300))
  FROM irp_batch b, generate_series(1, $2::int) g WHERE b.id = $1
""",
    """
INSERT INTO irp_job (batch_id, job_configuration_id, status, submit_requested_ts,
                     idempotency_key, workflow_name, submitting_ts, submission_attempts,
                     moodys_workflow_id, submitted_ts, last_tracked_ts, poll_count,
                     status_changed_ts, completed_ts, progress)
SELECT jc.batch_id, jc.id, 'FINISHED', jc.created_ts, gen_random_uuid(),
       'irpd-history-' || jc.id, jc.created_ts, 1, (900000000000 + jc.id)::text, jc.created_ts,
       jc.created_ts, 40, jc.created_ts, jc.created_ts, 100
  FROM irp_job_configuration jc WHERE jc.batch_id = $1 ORDER BY jc.id
""",
    """
INSERT INTO irp_job_tracking_log (job_id, moodys_workflow_id, job_status, previous_status,
                                  source, tracking_data, tracked_ts)
SELECT j.id, j.moodys_workflow_id, s.status, s.previous, s.source, NULL, j.completed_ts
  FROM irp_job j,
       (VALUES ('SUBMITTED', 'SUBMITTING', 'engine'), ('QUEUED', 'SUBMITTED', 'moodys'),
               ('PENDING', 'QUEUED', 'moodys'), ('RUNNING', 'PENDING', 'moodys'),
               ('FINISHED', 'RUNNING', 'moodys')) s (status, previous, source)
 WHERE j.batch_id = $1
""",
    """
INSERT INTO irp_batch_recon_log (batch_id, recon_result, recon_summary, previous_status)
VALUES ($1, 'COMPLETED', '{"total_jobs": 0}'::jsonb, 'ACTIVE')
""",
]

FINISH_LIVE = """
WITH jobs AS (
    -- the fake numbers its workflows from 1 again in every run: free the ids for a --reuse
    UPDATE irp_job SET status = 'FINISHED', completed_ts = now(),
                       moodys_workflow_id = 'bench-done-' || id
     WHERE batch_id = $1 RETURNING 1
), batch AS (
    UPDATE irp_batch SET status = 'COMPLETED', completed_ts = now() WHERE id = $1
    RETURNING configuration_id
)
UPDATE irp_cycle SET status = 'ARCHIVED', archived_ts = now()
 WHERE id = (SELECT c.cycle_id FROM irp_configuration c JOIN batch b ON b.configuration_id = c.id)
"""


REPORT_ALL = "SELECT * FROM irp_job_report WHERE batch_id = $1 ORDER BY job_id"
REPORT_PAGE = (
    "SELECT * FROM irp_job_report WHERE batch_id = $1 AND job_id > 0 ORDER BY job_id LIMIT 501"
)


def _progress(text: str) -> None:
    print(f"[history {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


async def seed_history(dsn: str, jobs: int, per_cycle: int) -> tuple[list[str], float]:
    """Archived cycles of ``per_cycle`` finished jobs, ``jobs`` in all; their names (oldest
    first) and the seconds it took."""
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    names: list[str] = []
    try:
        cycles = max(1, jobs // per_cycle)
        for index in range(cycles):
            name = f"history-{index + 1:04d}"
            async with conn.transaction():
                batch = await conn.fetchval(HISTORY_CYCLE, name, cycles - index + 30)
                for statement in HISTORY_ROWS:
                    if "$2" in statement:
                        await conn.execute(statement, batch, per_cycle)
                    else:
                        await conn.execute(statement, batch)
            names.append(name)
            if (index + 1) % 10 == 0:
                _progress(f"seeded {(index + 1) * per_cycle:,} history jobs")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
    return names, time.perf_counter() - started


def _backend_cpu(pid: int) -> float:
    """CPU seconds of a PostgreSQL backend on this machine (load-independent)."""
    return process_cpu(pid) or 0.0


async def _report_times(dsn: str, batch_id: int) -> dict[str, float | None]:
    """The live batch's report, and the first page of its paged report: median of 5 wall
    times (ms), and the backend's CPU per execution and shared buffers touched (neither
    depends on the machine's load)."""
    conn = await asyncpg.connect(dsn, server_settings={"jit": "off"})
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        figures: dict[str, float | None] = {}
        for name, query in (("job_report", REPORT_ALL), ("report_page", REPORT_PAGE)):
            walls: list[float] = []
            cpu = _backend_cpu(backend)
            for _ in range(5):
                started = time.perf_counter()
                await conn.fetch(query, batch_id)
                walls.append((time.perf_counter() - started) * 1000)
            cpu = _backend_cpu(backend) - cpu
            plan = json.loads(
                await conn.fetchval("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, batch_id)
            )[0]["Plan"]
            figures[f"{name}_ms"] = rounded(statistics.median(walls), 2)
            figures[f"{name}_cpu_ms"] = rounded(cpu / 5 * 1000, 1)
            figures[f"{name}_buffers"] = plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]
        return figures
    finally:
        await conn.close()


async def _vacuum(dsn: str) -> None:
    """VACUUM (ANALYZE) the job tables: what autovacuum does in production after 20,000
    changed rows (migration 0100), done here because a CI server may run without it (this
    machine's has ``autovacuum = off``), where every round's dead rows would otherwise stay
    in the history database's indexes and weigh on the next round."""
    await _once(
        dsn, "execute", "VACUUM (ANALYZE) irp_job, irp_job_configuration, irp_job_tracking_log"
    )


async def live_figures(rig: Rig, dsn: str, live_jobs: int) -> dict[str, Any]:
    """The sweep phase of bench.run and the live batch's report, on ``dsn`` (vacuumed
    first)."""
    await _vacuum(dsn)
    db = await BenchDb.connect(dsn)
    try:
        first_id = await rig.fake.create_workflows(live_jobs)
        batch_id = await db.seed_in_flight(live_jobs, first_id)
        sweep, memory, control = await sweep_phase(rig, db, dsn, batch_id, live_jobs, None)
        own_start = _own_start(rig.workdir / f"n{live_jobs}-sweep" / "irpd.log")
    finally:
        await db.close()
    return {
        "batch_id": batch_id,
        "start_to_ready_s": sweep.start_to_ready_s,
        "start_to_loaded_s": sweep.start_to_loaded_s,
        # from the control socket listening (interpreter started, modules imported) to ready:
        # the daemon's own start-up, without the Python start that the load stretches most
        "socket_to_ready_s": own_start,
        "sweep_s": sweep.sweep_s,
        "start_to_first_full_sweep_s": sweep.start_to_first_full_sweep_s,
        "rss_mb": memory.rss_mb,
        "batch_show_p50_ms": control.batch_show_p50_ms,
        "batch_show_p99_ms": control.batch_show_p99_ms,
        "status_p50_ms": control.status_p50_ms,
        "status_p99_ms": control.status_p99_ms,
        # CPU seconds (load-independent): the sweep phase, and the control phase per call
        # (2 x --control-calls calls; background tracking included, alike in both databases)
        "sweep_cpu": _cpu(sweep.cpu, 1),
        "control_cpu_ms_per_call": _cpu(control.tracking_cpu, 2 * control.calls),
        **await _report_times(dsn, batch_id),
    }


def _own_start(log: Path) -> float | None:
    """Seconds from ``control_socket_listening`` to ``irpd_ready`` in a daemon's log."""
    listening = logscan.first_event(log, "control_socket_listening")
    ready = logscan.first_event(log, "irpd_ready")
    if listening is None or ready is None or listening.epoch is None or ready.epoch is None:
        return None
    return round(ready.epoch - listening.epoch, 3)


def _cpu(cpu: CpuFigures | None, calls: int) -> dict[str, float | None] | None:
    """Daemon and PostgreSQL CPU of a phase: seconds, or ms per call when ``calls`` > 1."""
    if cpu is None:
        return None
    scale = 1000 / calls if calls > 1 else 1.0
    return {
        "daemon": None if cpu.daemon_s is None else round(cpu.daemon_s * scale, 3),
        "postgres": None if cpu.postgres_s is None else round(cpu.postgres_s * scale, 3),
    }


def _status_while(done: threading.Event, daemon: Daemon) -> list[float]:
    latencies: list[float] = []
    while not latencies or not done.is_set():
        started = time.perf_counter()
        daemon.call("status")
        latencies.append((time.perf_counter() - started) * 1000)
        time.sleep(0.01)
    return latencies


def _irpd_cycle(dsn: str, workdir: Path, *args: str) -> tuple[float, dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPD_")}
    env |= {"IRPD_DATABASE_DSN": dsn, "IRPD_STATE_DIR": str(workdir / "cycle-state")}
    config = workdir / "empty.toml"
    config.write_text("")
    command = [sys.executable, "-m", "irpd.cli.main", "cycle", *args, "--config", str(config)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, json.loads(done.stdout.splitlines()[-1])


async def retire_figures(rig: Rig, dsn: str, cycle: str, settle: float) -> dict[str, Any]:
    """Export and purge ``cycle`` while a daemon tracks the live batch (seeded before)."""
    daemon = rig.daemon(dsn, "history-retire")
    out = rig.workdir / "exports"
    try:
        daemon.start()
        await daemon.wait_event("tracker_loaded", 600)
        await asyncio.sleep(settle)
        before = loop_lag(await rig.status(daemon))
        done = threading.Event()
        sampler = asyncio.create_task(asyncio.to_thread(_status_while, done, daemon))
        try:
            export_s, exported = await asyncio.to_thread(
                _irpd_cycle, dsn, rig.workdir, "export", cycle, "--out", str(out)
            )
            purge_s, purged = await asyncio.to_thread(
                _irpd_cycle, dsn, rig.workdir, "purge", cycle, "--export", exported["path"]
            )
        finally:
            done.set()
            status_ms = await sampler
        after = loop_lag(await rig.status(daemon))
    finally:
        await daemon.stop()
    size = await asyncio.to_thread(os.path.getsize, exported["path"])
    return {
        "cycle": cycle,
        "rows": exported["rows"],
        "export_s": rounded(export_s, 2),
        "export_file_mb": round(size / 2**20, 1),
        "purge_s": rounded(purge_s, 2),
        "purge_transactions": purged["transactions"],
        "status_calls": len(status_ms),
        "status_p50_ms": rounded(percentile(status_ms, 50), 2),
        "status_p99_ms": rounded(percentile(status_ms, 99), 2),
        "status_max_ms": rounded(max(status_ms), 2),
        "loop_lag_before": asdict(before),
        "loop_lag_after": asdict(after),
    }


async def _finish_live(dsn: str, batch_id: int) -> None:
    """End a round's live batch (its jobs FINISHED, the batch COMPLETED, its cycle ARCHIVED),
    so that the next round (or a ``--reuse`` run) seeds and tracks only its own."""
    await _once(dsn, "execute", FINISH_LIVE, batch_id)


async def _history_cycles(dsn: str) -> list[str]:
    rows = await _once(
        dsn,
        "fetch",
        "SELECT cycle_name FROM irp_cycle WHERE cycle_name LIKE 'history-%' "
        "AND status = 'ARCHIVED' ORDER BY id",
    )
    return [row["cycle_name"] for row in rows]


async def _round(
    rig: Rig, plain_admin: str, full: str, args: argparse.Namespace, history_first: bool
) -> dict[str, Any]:
    """One no-history and one history measurement back to back (in either order, so that
    what the first leaves behind on the machine weighs on both alike), with the load."""
    figures: dict[str, Any] = {"load_average": os.getloadavg(), "history_first": history_first}
    for history in (True, False) if history_first else (False, True):
        if history:
            _progress(f"history: live batch of {args.live_jobs:,}")
            figures["with_history"] = await live_figures(rig, full, args.live_jobs)
            await _finish_live(full, figures["with_history"]["batch_id"])
            continue
        plain = await benchdb.fresh_database(plain_admin, "nohistory")
        try:
            _progress(f"no history: live batch of {args.live_jobs:,}")
            figures["no_history"] = await live_figures(rig, plain, args.live_jobs)
        finally:
            await benchdb.drop(plain_admin, plain)
    figures["load_average_after"] = os.getloadavg()
    return figures


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Both databases, every figure: ``--rounds`` interleaved no-history / history pairs, so
    that the machine's load weighs on both alike."""
    server = await benchdb.choose_server(args.dsn, workdir)
    fake = FakeProcess(workdir / "fake.log")
    options = Options(
        control_calls=args.control_calls, requests_per_second=args.rate, keep_databases=False
    )
    rig = Rig(server, fake, workdir, options)
    result: dict[str, Any] = {
        "history_jobs": args.history_jobs,
        "cycle_jobs": args.cycle_jobs,
        "live_jobs": args.live_jobs,
        "load_average_before": os.getloadavg(),
    }
    full = args.reuse
    result["autovacuum"] = await _setting(server.admin_dsn, "autovacuum")
    try:
        await fake.start()
        if full is None:
            full = await benchdb.fresh_database(server.admin_dsn, "history")
            _progress(f"seeding {args.history_jobs:,} finished jobs")
            names, seconds = await seed_history(full, args.history_jobs, args.cycle_jobs)
            result["seed_s"] = round(seconds, 1)
            if args.keep_database:
                result["database"] = full
        else:
            names = await _history_cycles(full)
            result["reused"] = full
        result["database_mb"] = await _database_mb(full)
        result["rounds"] = [
            await _round(rig, server.admin_dsn, full, args, history_first=index % 2 == 1)
            for index in range(args.rounds)
        ]
        if args.retire and names:
            _progress(f"export + purge of {names[0]} while tracking")
            live = await BenchDb.connect(full)
            try:
                first_id = await rig.fake.create_workflows(args.live_jobs)
                await live.seed_in_flight(args.live_jobs, first_id)
            finally:
                await live.close()
            result["retire"] = await retire_figures(rig, full, names[0], args.settle)
    finally:
        if not args.keep_database and args.reuse is None and full is not None:
            await benchdb.drop(server.admin_dsn, full)
        await fake.stop()
        server.stop()
    result["load_average_after"] = os.getloadavg()
    return result


async def _setting(dsn: str, name: str) -> str:
    return str(await _once(dsn, "fetchval", "SELECT current_setting($1)", name))


async def _database_mb(dsn: str) -> float:
    size = await _once(dsn, "fetchval", "SELECT pg_database_size(current_database())")
    return round(int(size) / 2**20, 1)


async def _once(dsn: str, how: str, query: str, *args: Any) -> Any:
    """``query`` on a connection of its own (``how``: execute, fetch or fetchval)."""
    conn = await asyncpg.connect(dsn)
    try:
        return await getattr(conn, how)(query, *args)
    finally:
        await conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point."""
    p = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--history-jobs", type=int, default=1_000_000)
    p.add_argument("--cycle-jobs", type=int, default=25_000)
    p.add_argument("--live-jobs", type=int, default=10_000)
    p.add_argument("--control-calls", type=int, default=200)
    p.add_argument("--rate", type=float, default=10_000.0)
    p.add_argument("--settle", type=float, default=62.0, help="seconds before export/purge")
    p.add_argument("--dsn")
    p.add_argument("--keep-database", action="store_true", help="keep the seeded database")
    p.add_argument("--reuse", metavar="DSN", help="a database seeded by a --keep-database run")
    p.add_argument("--rounds", type=int, default=1, help="interleaved no-history/history pairs")
    p.add_argument("--keep-workdir", action="store_true", help="keep the daemons' logs")
    p.add_argument("--no-retire", dest="retire", action="store_false", help="skip export+purge")
    p.add_argument("--out", type=Path, default=Path("bench/results/history.json"))
    args = p.parse_args(argv)
    configure_logging("warning", "console", stream=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="irpd-history-"))
    try:
        result = asyncio.run(run(args, workdir))
    finally:
        if args.keep_workdir:
            print(f"work directory kept: {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
