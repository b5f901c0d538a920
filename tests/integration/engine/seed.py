"""Minimal rows for engine tests that do not need the full operations layer."""

from __future__ import annotations

from irpd.db.database import Database

SEED = """
INSERT INTO irp_cycle (cycle_name) VALUES ('engine-test');
INSERT INTO irp_configuration (cycle_id, configuration_file_name, configuration_data, status)
SELECT id, 'seed.xlsx', '{}'::jsonb, 'ACTIVE' FROM irp_cycle;
INSERT INTO irp_batch (configuration_id, batch_type, status, submitted_ts)
SELECT id, 'analysis', 'ACTIVE', now() FROM irp_configuration;
INSERT INTO irp_job_configuration (batch_id, configuration_id, job_configuration_data)
SELECT b.id, b.configuration_id, jsonb_build_object('job_key', 'job' || g, 'batch_type', 'analysis')
  FROM irp_batch b, generate_series(1, {n}) g;
INSERT INTO irp_job (batch_id, job_configuration_id, submit_requested_ts)
SELECT batch_id, id, now() FROM irp_job_configuration ORDER BY id;
"""


async def seed_jobs(db: Database, n: int) -> list[int]:
    """One ACTIVE batch with ``n`` INITIATED jobs queued for submission; return job ids."""
    async with db.transaction() as tx:
        await tx.execute_script(SEED.replace("{n}", str(int(n))))
    rows = await db.fetch("engine_job_counts")
    assert rows
    return list(range(1, n + 1))
