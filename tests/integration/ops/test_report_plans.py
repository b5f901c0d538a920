"""Reports and listings cost what the batch (or page) holds, not the history: on a seeded
history of past cycles, the plans of a live batch's report, listings and a job's history scan
no whole table of jobs, job configurations or tracking rows (checked with EXPLAIN)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from irpd.db.database import Database

HISTORY_JOBS = 40_000
LIVE_JOBS = 4000

SEED = """
INSERT INTO irp_cycle (cycle_name, status, archived_ts) VALUES ('past', 'ARCHIVED', now());
INSERT INTO irp_cycle (cycle_name) VALUES ('live');
INSERT INTO irp_configuration (cycle_id, configuration_file_name, configuration_data, status)
SELECT id, cycle_name || '.xlsx', '{}'::jsonb, 'ACTIVE' FROM irp_cycle ORDER BY id;
INSERT INTO irp_batch (configuration_id, batch_type, status, submitted_ts)
SELECT id, 'analysis', CASE WHEN id = 1 THEN 'COMPLETED' ELSE 'ACTIVE' END, now()
  FROM irp_configuration ORDER BY id;
INSERT INTO irp_job_configuration (batch_id, configuration_id, job_configuration_data)
SELECT b.id, b.configuration_id,
       jsonb_build_object('job_key', 'job' || g, 'payload', repeat('x', 200))
  FROM irp_batch b, generate_series(1, CASE WHEN b.id = 1 THEN {history} ELSE {live} END) g
 ORDER BY b.id, g;
INSERT INTO irp_job (batch_id, job_configuration_id, status, moodys_workflow_id, completed_ts)
SELECT batch_id, id, CASE WHEN batch_id = 1 THEN 'FINISHED' ELSE 'RUNNING' END,
       (1000000 + id)::text, CASE WHEN batch_id = 1 THEN now() END
  FROM irp_job_configuration ORDER BY id;
INSERT INTO irp_job_tracking_log (job_id, moodys_workflow_id, job_status, previous_status, source)
SELECT j.id, j.moodys_workflow_id, s.status, s.previous, 'moodys'
  FROM irp_job j,
       (VALUES ('QUEUED', 'SUBMITTED'), ('RUNNING', 'QUEUED'), ('FINISHED', 'RUNNING'))
           s (status, previous);
ANALYZE;
"""

BIG_TABLES = {"irp_job", "irp_job_configuration", "irp_job_tracking_log"}


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


@pytest.fixture
async def history(db: Database, db_dsn: str) -> dict[str, int]:
    async with db.transaction() as tx:
        await tx.execute_script(
            SEED.replace("{history}", str(HISTORY_JOBS)).replace("{live}", str(LIVE_JOBS))
        )
    return {"batch": 2, "job": HISTORY_JOBS + 1}


async def _plan(db: Database, db_dsn: str, name: str, *args: Any) -> list[dict[str, Any]]:
    """The nodes of a named query's plan."""
    conn = await asyncpg.connect(db_dsn, server_settings={"jit": "off"})
    try:
        text = await conn.fetchval("EXPLAIN (FORMAT JSON) " + db.sql(name), *args)
    finally:
        await conn.close()
    return list(_nodes(json.loads(text)[0]["Plan"]))


async def _scanned(db: Database, db_dsn: str, name: str, *args: Any) -> set[str]:
    """The big tables a named query's plan reads with a sequential scan."""
    return {
        node["Relation Name"]
        for node in await _plan(db, db_dsn, name, *args)
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in BIG_TABLES
    }


LIVE_READS = [
    ("report_batch_jobs", ("batch", None, None)),
    ("page_job_reports", ("batch", None, None, 0, 501)),
    ("page_batch_jobs", ("batch", None, None, 0, 501)),
    ("page_batch_job_configurations", ("batch", None, 0, 501)),
    ("report_batch", ("batch",)),
    ("report_job", ("job",)),
    ("page_job_tracking", ("job", 0, 501)),
    ("job_tracking_log", ("job", 500)),
    ("batch_jobs", ("batch", None, None)),
]


SHARDS = list(range(64))
# what a daemon reads on its live path whatever the history: control calls (`batch show`,
# `status`), start-up and the engine's periodic reads (in flight, queue, cancels, lost)
ENGINE_READS = [
    ("batch_read", ("batch",)),
    ("engine_job_counts", ()),
    ("metrics_job_counts", ()),
    ("engine_in_flight_jobs", (SHARDS,)),
    ("engine_queued_jobs", (SHARDS, 100)),
    ("engine_unresolved_submissions", (SHARDS, [], 100)),
    ("engine_cancels_to_send", (SHARDS, [], 100)),
    ("engine_missing_workflows", (SHARDS,)),
]


async def _configuration_reads(db: Database, db_dsn: str, name: str, *args: Any) -> set[str]:
    """How a named query's plan reads irp_job_configuration: index names, or scan types."""
    return {
        node.get("Index Name") or node["Node Type"]
        for node in await _plan(db, db_dsn, name, *args)
        if str(node.get("Index Name", "")).startswith("irp_job_configuration_")
        or (
            node.get("Relation Name") == "irp_job_configuration"
            and "Index Name" not in node
            and node["Node Type"] != "Bitmap Heap Scan"
        )
    }


async def test_live_reads_scan_no_history(
    db: Database, db_dsn: str, history: dict[str, int]
) -> None:
    """Reports, listings and the daemon's own reads (one seeded history for all)."""
    scanned = {}
    for query, args in [*LIVE_READS, *ENGINE_READS]:
        values = [history[a] if isinstance(a, str) else a for a in args]
        scanned[query] = await _scanned(db, db_dsn, query, *values)
    assert scanned == {query: set() for query, _ in [*LIVE_READS, *ENGINE_READS]}
    # a whole job report reads `overridden` from the batch's own job configurations (a range
    # of (batch_id, id), migration 0101), not by probing the whole table's primary key per job
    whole = await _configuration_reads(
        db, db_dsn, "report_batch_jobs", history["batch"], None, None
    )
    assert whole == {"irp_job_configuration_batch_idx"}
