"""The operator's scenarios through irpctl: mixed outcomes, resubmission with and without an
override, a chain of resubmissions, skip and force-ok."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import steps
from .harness import EXIT_USAGE
from .ledger import duplicate_problems
from .scripted import generic_batch, name_of, run_with_failures, script_failures
from .stack import Stack

pytestmark = pytest.mark.e2e

ANALYSIS_FAILURE = "Analysis failed: event rate scheme not licensed (e2e)"


def test_mixed_outcomes_fail_the_batch_and_recon_names_the_failures(stack: Stack) -> None:
    ctl = stack.ctl
    configuration_id = steps.load_sample(ctl)
    batch_id = steps.create_batch(ctl, "analysis", configuration_id)
    job_ids = [int(j["id"]) for j in steps.jobs(ctl, batch_id)]
    victims = sorted(job_ids[i] for i in (1, 4) if i < len(job_ids))
    for job_id in victims:
        stack.fake.script(name_of(ctl, job_id), "FAILED", ANALYSIS_FAILURE)

    steps.submit(ctl, batch_id)
    rc, status = steps.wait(ctl, batch_id)
    assert (rc, status) == (1, "FAILED")
    jobs = steps.wait_jobs_terminal(ctl, batch_id)

    by_id = {int(j["id"]): j for j in jobs}
    assert {j["status"] for i, j in by_id.items() if i in victims} == {"FAILED"}
    assert all(ANALYSIS_FAILURE in (by_id[i]["last_error"] or "") for i in victims)
    others = {i: (j["status"], j["last_error"]) for i, j in by_id.items() if i not in victims}
    assert {s for s, _ in others.values()} == {"FINISHED"}, others

    result = steps.recon(ctl, batch_id)
    summary = steps.recon_summary(result)
    assert steps.recon_status(result) == "FAILED"
    assert summary["failed_job_ids"] == victims
    assert sorted(summary["failed_workflow_ids"]) == sorted(
        str(by_id[i]["moodys_workflow_id"]) for i in victims
    )
    assert summary["total_configs"] == len(job_ids)
    assert summary["fulfilled_configs"] == len(job_ids) - len(victims)
    assert duplicate_problems(stack.ledger(), jobs, unique_names=True) == []


def test_resubmission_without_and_with_override(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    batch, _ = run_with_failures(stack, tmp_path, 4, failing=(1, 2), prefix="resub")
    plain_id, overridden_id = batch.job_ids[1], batch.job_ids[2]
    assert steps.batch_status(ctl, batch.batch_id) == "FAILED"

    # without an override: a new job on the same job configuration; the original is skipped
    original = steps.job_show(ctl, plain_id)["job"]
    new_plain = int(ctl.json("job", "resubmit", plain_id, "--hold")["job_id"])
    plain_shown = steps.job_show(ctl, new_plain)
    assert plain_shown["job"]["status"] == "INITIATED"
    assert plain_shown["job"]["parent_job_id"] == plain_id
    assert plain_shown["job"]["job_configuration_id"] == original["job_configuration_id"]
    assert plain_shown["job_configuration"]["overridden"] is False
    assert steps.job_show(ctl, plain_id)["job"]["skipped"] is True

    # with an override: a new, overridden job configuration carrying the reason
    data = steps.job_configuration_data(ctl, overridden_id)
    override = {**data, "priority": 9, "target": "corrected-target"}
    reason = "target was wrong; corrected after the failure (e2e)"
    new_over = int(
        ctl.json(
            "job",
            "resubmit",
            overridden_id,
            "--override",
            steps.write_override(tmp_path, override),
            "--reason",
            reason,
            "--hold",
        )["job_id"]
    )
    over_shown = steps.job_show(ctl, new_over)
    configuration = over_shown["job_configuration"]
    assert over_shown["job"]["parent_job_id"] == overridden_id
    assert configuration["overridden"] is True
    assert configuration["override_reason_txt"] == reason
    assert {k: configuration["job_configuration_data"][k] for k in override} == override
    assert over_shown["ancestors"] == [overridden_id]
    assert steps.job_show(ctl, overridden_id)["descendants"] == [new_over]
    assert steps.job_show(ctl, overridden_id)["job"]["skipped"] is True

    # submitting the new jobs reactivates the batch, which then completes
    submitted = ctl.json("job", "submit", new_plain)
    assert submitted["batch_status"] == "ACTIVE"
    ctl.json("job", "submit", new_over)
    assert steps.wait(ctl, batch.batch_id) == (0, "COMPLETED")
    jobs = steps.jobs(ctl, batch.batch_id)
    assert {int(j["id"]): j["status"] for j in jobs if not j["skipped"]} == {
        batch.job_ids[0]: "FINISHED",
        batch.job_ids[3]: "FINISHED",
        new_plain: "FINISHED",
        new_over: "FINISHED",
    }
    summary = steps.recon_summary(steps.recon(ctl, batch.batch_id))
    assert summary["fulfilled_configs"] == summary["total_configs"]
    assert duplicate_problems(stack.ledger(), jobs, unique_names=True) == []


def test_chain_of_resubmissions_is_visible_from_its_last_job(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    batch, _ = run_with_failures(stack, tmp_path, 2, failing=(0,), prefix="chain")
    v1 = batch.job_ids[0]

    v2 = int(ctl.json("job", "resubmit", v1, "--hold")["job_id"])
    script_failures(stack, [v2], "failed again (e2e)")
    ctl.json("job", "submit", v2)
    assert steps.wait(ctl, batch.batch_id) == (1, "FAILED")
    steps.wait_job(ctl, v2, {"FAILED"})

    v3 = int(ctl.json("job", "resubmit", v2)["job_id"])  # queued by default
    assert steps.wait(ctl, batch.batch_id) == (0, "COMPLETED")

    shown = steps.job_show(ctl, v3)
    assert shown["job"]["status"] == "FINISHED"
    assert sorted(shown["ancestors"]) == sorted([v1, v2])
    chain = {link["job_id"]: link for link in shown["lineage"]}
    assert set(chain) == {v1, v2, v3}
    assert [chain[j]["status"] for j in (v1, v2, v3)] == ["FAILED", "FAILED", "FINISHED"]
    assert [chain[j]["parent_job_id"] for j in (v1, v2, v3)] == [None, v1, v2]
    assert sorted(steps.job_show(ctl, v1)["descendants"]) == sorted([v2, v3])
    jobs = steps.jobs(ctl, batch.batch_id)
    assert duplicate_problems(stack.ledger(), jobs, unique_names=True) == []


def test_skipped_job_is_left_out_of_recon(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    batch, _ = run_with_failures(stack, tmp_path, 3, failing=(1,), prefix="skip")
    failed = batch.job_ids[1]
    assert steps.batch_status(ctl, batch.batch_id) == "FAILED"

    assert ctl("job", "skip", failed, check=False).rc == EXIT_USAGE  # a reason is required
    reason = "not needed this quarter (e2e)"
    ctl.json("job", "skip", failed, "--reason", reason)
    job = steps.job_show(ctl, failed)["job"]
    assert (job["skipped"], job["skipped_reason_txt"]) == (True, reason)

    result = steps.recon(ctl, batch.batch_id)
    summary = steps.recon_summary(result)
    assert steps.recon_status(result) == "COMPLETED"
    assert summary["failed_job_ids"] == []
    assert summary["job_status_counts"].get("SKIPPED") == 1
    assert summary["job_status_counts"].get("FAILED", 0) == 0
    assert summary["total_configs"] == summary["fulfilled_configs"] == 2
    assert steps.wait(ctl, batch.batch_id) == (0, "COMPLETED")


def test_force_ok_needs_a_reason_and_completes_a_failed_batch(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    batch, _ = run_with_failures(stack, tmp_path, 2, failing=(0,), prefix="forceok")
    failed = batch.job_ids[0]
    assert steps.batch_status(ctl, batch.batch_id) == "FAILED"

    assert ctl("job", "force-ok", failed, check=False).rc == EXIT_USAGE
    assert steps.job_show(ctl, failed)["job"]["status"] == "FAILED"

    reason = "output verified by hand (e2e)"
    forced = ctl.json("job", "force-ok", failed, "--reason", reason)
    assert forced["status"] == "FORCED_OK"
    assert steps.job_show(ctl, failed)["job"]["forced_ok_reason_txt"] == reason

    result = steps.recon(ctl, batch.batch_id)
    summary = steps.recon_summary(result)
    assert steps.recon_status(result) == "COMPLETED"
    assert summary["fulfilled_configs"] == summary["total_configs"] == 2
    assert summary["job_status_counts"].get("FORCED_OK") == 1
    assert steps.batch_status(ctl, batch.batch_id) == "COMPLETED"


def test_jobs_set_aside_before_submission_and_a_cancelled_one_resubmitted(
    stack: Stack, tmp_path: Path
) -> None:
    ctl = stack.ctl
    batch = generic_batch(stack, tmp_path, 3, "aside")
    cancelled, skipped, kept = batch.job_ids
    assert ctl.json("job", "cancel", cancelled)["status"] == "CANCELLED"
    ctl.json("job", "skip", skipped, "--reason", "not this time (e2e)")

    submitted = steps.submit(ctl, batch.batch_id)
    assert submitted["submitted_jobs"] == 1
    steps.wait_job(ctl, kept, {"FINISHED"})
    # a FINISHED and a CANCELLED job: a configuration is unfulfilled, so the batch waits
    result = steps.recon(ctl, batch.batch_id)
    assert steps.recon_status(result) == "ACTIVE"
    assert steps.recon_summary(result)["fulfilled_configs"] == 1

    replacement = int(ctl.json("job", "resubmit", cancelled)["job_id"])  # queued by default
    assert steps.job_show(ctl, replacement)["job"]["submit_requested_ts"] is not None
    assert steps.wait(ctl, batch.batch_id) == (0, "COMPLETED")
    summary = steps.recon_summary(steps.recon(ctl, batch.batch_id))
    assert summary["total_configs"] == summary["fulfilled_configs"] == 2
    jobs = steps.jobs(ctl, batch.batch_id)
    assert duplicate_problems(stack.ledger(), jobs, unique_names=True) == []
    assert len(stack.ledger()) == 2
