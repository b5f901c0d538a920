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


async def _scanned(db: Database, db_dsn: str, name: str, *args: Any) -> set[str]:
    """The big tables a named query's plan reads with a sequential scan."""
    conn = await asyncpg.connect(db_dsn, server_settings={"jit": "off"})
    try:
        text = await conn.fetchval("EXPLAIN (FORMAT JSON) " + db.sql(name), *args)
    finally:
        await conn.close()
    plan = json.loads(text)[0]["Plan"]
    return {
        node["Relation Name"]
        for node in _nodes(plan)
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


async def test_live_reads_scan_no_history(
    db: Database, db_dsn: str, history: dict[str, int]
) -> None:
    scanned = {}
    for query, args in LIVE_READS:
        values = [history[a] if isinstance(a, str) else a for a in args]
        scanned[query] = await _scanned(db, db_dsn, query, *values)
    assert scanned == {query: set() for query, _ in LIVE_READS}
