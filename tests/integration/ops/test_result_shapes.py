"""Each operation answers exactly the keys its result type (irpd.ops.results) names.

The types are ``TypedDict``\\ s cast over SQL rows, so mypy trusts them: this walk through one
batch's life checks them against what the real queries return (a column added to a query
without its type, or a type naming a column the query lost, fails here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irpd.ops import Operations
from irpd.ops import results as r
from irpd.ops.results import CreatedBatch, CreatedCycle

from .support import job_ids, jobs_workbook


def shape(kind: Any, result: Mapping[str, Any]) -> None:
    keys = set(result)
    required, optional = set(kind.__required_keys__), set(kind.__optional_keys__)
    assert required <= keys, f"{kind.__name__}: missing {required - keys}"
    assert keys <= required | optional, f"{kind.__name__}: unnamed {keys - required - optional}"


async def test_cycle_configuration_and_batch_results_have_their_types_keys(
    ops: Operations, cycle: CreatedCycle, batch: CreatedBatch
) -> None:
    shape(r.CreatedCycle, cycle)
    shape(r.Cycle, await ops.cycles.read_cycle(cycle["id"]))
    for listed in await ops.cycles.list_cycles():
        shape(r.ListedCycle, listed)
    shape(r.CreatedBatch, batch)
    bid = batch["batch_id"]
    shape(r.Batch, await ops.batches.read_batch(bid))
    for row in await ops.batches.list_batches():
        shape(r.BatchRow, row)
    for job in await ops.batches.get_batch_jobs(bid):
        shape(r.BatchJob, job)
    for config in await ops.batches.get_batch_job_configurations(bid):
        shape(r.JobConfiguration, config)
    submitted = await ops.batches.submit_batch(bid)
    shape(r.SubmittedBatch, submitted)
    for queued in submitted["jobs"]:
        shape(r.QueuedJob, queued)


async def test_job_results_have_their_types_keys(ops: Operations, batch: CreatedBatch) -> None:
    bid = batch["batch_id"]
    first, second, _ = await job_ids(ops, bid)
    created = await ops.jobs.create_job(bid, batch["configuration_id"], None, {"job_key": "x"})
    shape(r.CreatedJob, created)
    shape(r.Job, await ops.jobs.read_job(first))
    shape(r.JobConfiguration, await ops.jobs.get_job_config(first))
    shape(r.SkippedJob, await ops.jobs.skip_job(created["job_id"], "not needed"))
    shape(r.JobMoved, await ops.jobs.cancel_job(first, "mistake"))
    shape(r.JobMoved, await ops.jobs.force_ok_job(first, "done by hand"))
    shape(r.SubmittedJob, await ops.jobs.submit_job(second))


async def test_a_workbook_dry_run_names_its_sheets(ops: Operations, cycle: CreatedCycle) -> None:
    workbook = jobs_workbook(2)
    dry = await ops.configurations.load_configuration(
        cycle["id"], workbook, register=False, file_name="j.xlsx"
    )
    shape(r.LoadedConfiguration, dry)
    assert "sheets" in dry
