"""Overrides are edits: merged onto the parent, checked by the batch type's rules before anything
is stored; resubmissions queued on request; every FAILED/ERROR job of a batch at once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from irpd.errors import BatchError, CycleError, JobError
from irpd.ops import Operations
from irpd.ops.overrides import OverrideRejectedError, changes, merge_patch
from irpd.samples import sample_path

from .support import Daemon, Fingerprint, job_ids, run_to

Snapshot = Callable[[], Awaitable[Fingerprint]]


def test_merge_patch_replaces_merges_objects_and_removes_nulls() -> None:
    parent = {"a": 1, "b": {"x": 1, "y": 2}, "c": [1, 2], "d": "keep"}
    patch = {"a": 2, "b": {"y": None, "z": 3}, "c": [3], "d": None, "e": "new"}
    merged = merge_patch(parent, patch)
    assert merged == {"a": 2, "b": {"x": 1, "z": 3}, "c": [3], "e": "new"}
    assert parent == {"a": 1, "b": {"x": 1, "y": 2}, "c": [1, 2], "d": "keep"}
    assert changes(parent, merged) == [
        {"key": "a", "change": "changed", "old": 1, "new": 2},
        {"key": "b.y", "change": "removed", "old": 2, "new": None},
        {"key": "b.z", "change": "added", "old": None, "new": 3},
        {"key": "c", "change": "changed", "old": [1, 2], "new": [3]},
        {"key": "d", "change": "removed", "old": "keep", "new": None},
        {"key": "e", "change": "added", "old": None, "new": "new"},
    ]


async def _analysis_jobs(ops: Operations) -> tuple[int, list[int]]:
    await ops.cycles.create_cycle("2026-Q2")
    loaded = await ops.configurations.load_configuration("2026-Q2", sample_path())
    batch = await ops.batches.create_batch("analysis", loaded["configuration_id"])
    return batch["batch_id"], await job_ids(ops, batch["batch_id"])


async def test_a_partial_override_is_merged_and_checked_by_the_batch_type(
    ops: Operations, snapshot: Snapshot
) -> None:
    _, jobs = await _analysis_jobs(ops)
    first = jobs[0]
    parent = (await ops.jobs.get_job_config(first))["job_configuration_data"]
    before = await snapshot()
    bad = {"threshold": 0.9, "portfolio": "NO_SUCH_PORTFOLIO", "currency": "euro", "tags": None}
    with pytest.raises(OverrideRejectedError) as refused:
        await ops.resubmissions.resubmit_job(first, bad, "wrong parameters")
    assert [p["key"] for p in refused.value.problems] == ["currency", "portfolio", "threshold"]
    assert "'NO_SUCH_PORTFOLIO' is not listed in Portfolios" in str(refused.value)
    assert f"Invalid override of job {first}" in str(refused.value)
    assert await snapshot() == before  # nothing written

    with pytest.raises(JobError, match="changes nothing"):
        await ops.resubmissions.resubmit_job(first, {"portfolio": parent["portfolio"]}, "same")
    with pytest.raises(JobError, match="batch_type: cannot be overridden: it names the job"):
        await ops.resubmissions.resubmit_job(first, {"batch_type": "default"}, "other type")
    with pytest.raises(OverrideRejectedError) as renamed:  # as irpctl --set job_key=... sends
        await ops.resubmissions.resubmit_job(first, {"job_key": "other"}, "rename")
    assert [p["key"] for p in renamed.value.problems] == ["job_key"]
    assert "it stays" in renamed.value.problems[0]["message"]
    assert await snapshot() == before  # nothing written

    edits = {"event_rate": "RMS 2023 Long Term Event Rates", "tags": None}
    new = await ops.resubmissions.resubmit_job(first, edits, "event rate not licensed", queue=True)
    assert (new["queued"], new["batch_status"]) == (True, "ACTIVE")
    stored = (await ops.jobs.get_job_config(new["job_id"]))["job_configuration_data"]
    expected = {k: v for k, v in parent.items() if k != "tags"}
    assert stored == {**expected, "event_rate": "RMS 2023 Long Term Event Rates"}
    assert (await ops.jobs.read_job(new["job_id"]))["submit_requested_ts"] is not None
    shown = (await ops.tracking.job_history(new["job_id"]))["override"]
    assert shown is not None
    assert [c["key"] for c in shown["changes"]] == ["event_rate", "tags"]


async def test_replace_takes_a_whole_configuration_still_checked(ops: Operations) -> None:
    _, jobs = await _analysis_jobs(ops)
    parent = (await ops.jobs.get_job_config(jobs[1]))["job_configuration_data"]
    partial = {"event_rate": "RMS 2023 Long Term Event Rates"}
    with pytest.raises(OverrideRejectedError) as refused:
        await ops.resubmissions.resubmit_job(jobs[1], partial, "whole", replace=True)
    assert "batch_type" in {p["key"] for p in refused.value.problems}
    whole = {**parent, **partial}
    new = await ops.resubmissions.resubmit_job(jobs[1], whole, "whole", replace=True)
    assert (await ops.jobs.get_job_config(new["job_id"]))["job_configuration_data"] == whole
    assert new["queued"] is False
    with pytest.raises(JobError, match="replace: only allowed with job_configuration_data"):
        await ops.resubmissions.resubmit_job(jobs[2], None, None, replace=True)


async def test_operator_text_refuses_control_characters(
    ops: Operations, batch: dict[str, Any], snapshot: Snapshot
) -> None:
    job = (await job_ids(ops, batch["batch_id"]))[0]
    before = await snapshot()
    for name in ("line\nforged", "right\u202eto-left", "c1\x85inside", "tab\there"):
        with pytest.raises(CycleError, match="control characters"):
            await ops.cycles.create_cycle(name)
        with pytest.raises(JobError, match="control characters"):
            await ops.jobs.skip_job(job, name)
    with pytest.raises(OverrideRejectedError, match=r"target: contains a control character"):
        await ops.resubmissions.resubmit_job(job, {"target": "a\u202eb"}, "why")
    assert await snapshot() == before


async def test_every_failed_job_of_a_batch_is_resubmitted_at_once(
    ops: Operations, batch: dict[str, Any], daemon: Daemon, snapshot: Snapshot
) -> None:
    batch_id = batch["batch_id"]
    with pytest.raises(BatchError, match="no FAILED or ERROR jobs"):
        await ops.resubmissions.resubmit_failed(batch_id)
    await ops.batches.submit_batch(batch_id)
    first, second, third = await job_ids(ops, batch_id)
    await run_to(ops, daemon, first, "FAILED")
    await run_to(ops, daemon, second, "FAILED")
    await run_to(ops, daemon, third, "FINISHED")
    assert (await ops.recon.recon_batch(batch_id))["status"] == "FAILED"

    before = await snapshot()
    with pytest.raises(JobError, match="reason is required"):
        await ops.resubmissions.resubmit_failed(batch_id, {"target": "fixed"})
    assert await snapshot() == before

    result = await ops.resubmissions.resubmit_failed(batch_id, {"priority": 2}, "bulk fix")
    assert (result["resubmitted"], result["queued"], result["batch_status"]) == (2, 2, "ACTIVE")
    assert [pair["job_id"] for pair in result["jobs"]] == [first, second]
    for pair in result["jobs"]:
        new = await ops.jobs.read_job(pair["new_job_id"])
        assert (new["parent_job_id"], new["status"]) == (pair["job_id"], "INITIATED")
        assert new["submit_requested_ts"] is not None
        data = (await ops.jobs.get_job_config(pair["new_job_id"]))["job_configuration_data"]
        assert data["priority"] == 2
    with pytest.raises(BatchError, match="no FAILED or ERROR jobs"):
        await ops.resubmissions.resubmit_failed(batch_id)
