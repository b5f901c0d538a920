"""The live per-batch counts (trigger-maintained) always equal a direct count of the rows."""

from __future__ import annotations

import functools
import uuid

from irpd.db.database import Database
from irpd.db.engine_store import EngineStore
from irpd.engine.workflow_names import workflow_name
from irpd.excel.loader import load_workbook
from irpd.ops.facade import Operations
from irpd.transformers.catalogue import builtin_registry
from statemachines.job import JobStatus

from .conftest import jobs_workbook
from .moves import acknowledge, begin_submit, settle
from .moves import report as apply_reports

DIRECT_JOBS = """
SELECT batch_id, status, skipped, (status = 'INITIATED' AND submit_requested_ts IS NOT NULL) AS r,
       count(*) AS n FROM irp_job GROUP BY 1, 2, 3, 4
"""
DIRECT_CONFIGS = "SELECT batch_id, skipped, count(*) AS n FROM irp_job_configuration GROUP BY 1, 2"


async def _compare(db: Database) -> None:
    async with db.transaction() as tx:
        conn = tx._conn
        direct = {tuple(r[:4]): r["n"] for r in await conn.fetch(DIRECT_JOBS)}
        live = {
            (r["batch_id"], r["status"], r["skipped"], r["requested"]): r["n"]
            for r in await conn.fetch("SELECT * FROM irp_batch_job_count WHERE n <> 0")
        }
        assert live == direct
        direct_c = {tuple(r[:2]): r["n"] for r in await conn.fetch(DIRECT_CONFIGS)}
        live_c = {
            (r["batch_id"], r["skipped"]): r["n"]
            for r in await conn.fetch("SELECT * FROM irp_batch_config_count WHERE n <> 0")
        }
        assert live_c == direct_c


async def test_counts_follow_every_kind_of_write(db: Database) -> None:
    ops = Operations(db, builtin_registry(), load_workbook)
    cycle = await ops.cycles.create_cycle("counts")
    loaded = await ops.configurations.load_configuration(
        cycle["cycle_name"], jobs_workbook(30), file_name="j"
    )
    batch = await ops.batches.create_batch("multi_job", loaded["configuration_id"])
    batch_id = int(batch["batch_id"])
    await _compare(db)
    await ops.batches.submit_batch(batch_id)
    await _compare(db)
    store = EngineStore(db, "w")
    await store.heartbeat("h", 1, "t")
    await store.claim(60.0, 64)
    queued = await store.queued_jobs(list(range(64)), 100)
    await begin_submit(
        store, [(q.id, uuid.uuid4(), workflow_name(q.id, q.configuration)) for q in queued[:20]]
    )
    await acknowledge(store, [(q.id, str(9000 + q.id), {}, {}, 5.0) for q in queued[:15]])
    await settle(store, [(q.id, "refuse", "refused") for q in queued[15:20]])
    await apply_reports(
        store,
        [(q.id, "SUBMITTED", JobStatus.FAILED, None, None, "boom") for q in queued[:5]]
        + [(q.id, "SUBMITTED", JobStatus.FINISHED, 100, None, None) for q in queued[5:10]],
    )
    await _compare(db)
    await ops.jobs.cancel_job(queued[10].id)
    await ops.jobs.skip_job(queued[15].id, "not needed this quarter")
    await ops.resubmissions.resubmit_job(queued[0].id)
    await ops.resubmissions.resubmit_job(queued[1].id, {"name": "fixed"}, "corrected threshold")
    await ops.jobs.force_ok_job(queued[2].id, "fixed by hand on Moody's")
    await _compare(db)
    report = await ops.reports.batch_report(batch_id)
    assert report["total_jobs"] == 32
    assert report["fulfilled_configs"] == 6
    recon = await functools.partial(ops.recon.recon_batch, only_on_change=False)(batch_id)
    assert recon["summary"] is not None
    assert recon["summary"]["fulfilled_configs"] == report["fulfilled_configs"]
