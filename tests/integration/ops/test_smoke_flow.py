"""The standard flow end to end: cycle, workbook, batch, submit, track, reconcile, report."""

from __future__ import annotations

from typing import Any

from irpd.ops import Operations

from .support import Daemon, job_ids, run_to


async def test_standard_batch_processing(
    ops: Operations, batch: dict[str, Any], daemon: Daemon
) -> None:
    batch_id = batch["batch_id"]
    assert batch["jobs"] == 3
    submitted = await ops.batches.submit_batch(batch_id)
    assert submitted["batch_status"] == "ACTIVE"
    assert submitted["submitted_jobs"] == 3
    for job_id in await job_ids(ops, batch_id):
        await run_to(ops, daemon, job_id, "QUEUED", "RUNNING", "FINISHED")
    outcome = await ops.recon.recon_batch(batch_id)
    assert outcome["status"] == "COMPLETED"
    report = await ops.reports.batch_report(batch_id)
    assert report["next_action"] == "PROCEED"
    assert report["progress_pct"] == 100
