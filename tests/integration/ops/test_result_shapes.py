"""Each operation answers exactly the keys its result type (irpd.ops.results) names.

The types are ``TypedDict``\\ s cast over SQL rows, so mypy trusts them: this walk through one
batch's life checks them against what the real queries return (a column added to a query
without its type, or a type naming a column the query lost, fails here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from irpd.ops import Operations, listings
from irpd.ops import results as r
from irpd.ops.results import CreatedBatch, CreatedCycle

from .support import Daemon, job_ids, jobs_workbook, run_to


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


async def test_resubmission_tracking_recon_and_report_results_have_their_types_keys(
    ops: Operations, batch: CreatedBatch, daemon: Daemon
) -> None:
    bid = batch["batch_id"]
    first, second, third = await job_ids(ops, bid)
    await ops.batches.submit_batch(bid)
    await run_to(ops, daemon, first, "RUNNING")
    shape(r.AppliedStatus, await ops.tracking.apply_status_fact(first, "FAILED"))
    await run_to(ops, daemon, second, "FAILED")
    resubmitted = await ops.resubmissions.resubmit_job(first, queue=True)
    shape(r.ResubmittedJob, resubmitted)
    assert "batch_status" in resubmitted
    failed = await ops.resubmissions.resubmit_failed(bid)
    shape(r.ResubmittedFailed, failed)
    for pair in failed["jobs"]:
        shape(r.Replacement, pair)
    reconciled = await ops.recon.recon_batch(bid)
    shape(r.Reconciled, reconciled)
    assert "completed_ts" in reconciled
    quick = await ops.recon.recon_batch(bid, only_on_change=True)
    shape(r.Reconciled, quick)
    history = await ops.tracking.job_history(resubmitted["job_id"])
    shape(r.JobHistory, history)
    shape(r.Job, history["job"])
    shape(r.JobConfiguration, history["job_configuration"])
    shape(r.BatchReport, await ops.reports.batch_report(bid))
    for report in await ops.reports.batch_reports():
        shape(r.BatchReport, report)
    shape(r.JobReport, await ops.reports.job_report(third))
    for job in await ops.reports.job_reports(bid):
        shape(r.JobReport, job)


async def test_withdrawal_results_have_their_types_keys(
    ops: Operations, configuration_id: int
) -> None:
    kept = await ops.batches.create_batch("multi_job", configuration_id)
    shape(r.CancelledBatch, await ops.withdrawals.cancel_batch(kept["batch_id"], "mistake"))
    other = await ops.batches.create_batch("multi_job", configuration_id)
    shape(r.DeletedBatch, await ops.withdrawals.delete_batch(other["batch_id"], "mistake"))


async def test_an_override_is_shown_as_its_changes(ops: Operations, batch: CreatedBatch) -> None:
    first = (await job_ids(ops, batch["batch_id"]))[0]
    new = await ops.resubmissions.resubmit_job(first, {"job_key": "job-1", "v": 2}, "new value")
    override = (await ops.tracking.job_history(new["job_id"]))["override"]
    assert override is not None
    shape(r.OverrideChanges, override)


async def test_plan_results_have_their_types_keys(
    ops: Operations, cycle: CreatedCycle, configuration_id: int
) -> None:
    plan = 'name = "one step"\n\n[[step]]\nname = "one"\nbatch_type = "multi_job"\n'
    started = await ops.plans.run_plan(cycle["cycle_name"], plan)
    shape(r.PlanState, started)
    for step in started["steps"]:
        shape(r.StepProgress, step)
    shape(r.PlanStatusSet, await ops.plans.pause_plan(cycle["cycle_name"]))
    shape(r.PlanStatusSet, await ops.plans.resume_plan(cycle["cycle_name"]))
    shape(r.ApprovedStep, await ops.plans.approve_step(cycle["cycle_name"], "one", "me"))
    shape(r.PlanState, await ops.plans.plan_status(cycle["cycle_name"]))


async def test_listing_pages_have_their_types_rows(
    ops: Operations, batch: CreatedBatch, daemon: Daemon
) -> None:
    bid = batch["batch_id"]
    first = (await job_ids(ops, bid))[0]
    await ops.batches.submit_batch(bid)
    await run_to(ops, daemon, first, "RUNNING")
    db = ops.db
    pages: list[tuple[Any, listings.Page[Any]]] = [
        (r.ListedCycle, await listings.cycles(db)),
        (r.ConfigurationRow, await listings.configurations(db)),
        (r.BatchRow, await listings.batches(db)),
        (r.BatchJob, await listings.batch_jobs(db, bid)),
        (r.JobConfiguration, await listings.batch_job_configurations(db, bid)),
        (r.TrackingEntry, await listings.job_tracking(db, first)),
        (r.BatchReport, await listings.batch_reports(db)),
        (r.JobReport, await listings.job_reports(db, bid)),
    ]
    for kind, page in pages:
        assert page.rows, kind.__name__
        for row in page.rows:
            shape(kind, row)
    for entry in (await ops.tracking.job_history(first))["tracking_log"]:
        shape(r.TrackingEntry, entry)
