"""Batch reconciliation: every branch of the rule, and the summary."""

from __future__ import annotations

import json

import pytest

from statemachines.batch import BatchStatus
from statemachines.job import JobStatus
from statemachines.recon import ReconJob, ReconJobConfiguration, reconcile_batch

B = BatchStatus
J = JobStatus


def configs(*ids: int, skipped: tuple[int, ...] = ()) -> list[ReconJobConfiguration]:
    return [ReconJobConfiguration(i, skipped=i in skipped) for i in ids]


def job(
    job_id: int,
    config_id: int,
    status: JobStatus,
    *,
    skipped: bool = False,
    workflow: str | None = None,
) -> ReconJob:
    return ReconJob(job_id, config_id, status, skipped, workflow)


def test_all_cancelled_is_cancelled() -> None:
    outcome = reconcile_batch(configs(1, 2), [job(1, 1, J.CANCELLED), job(2, 2, J.CANCELLED)])
    assert outcome.status is B.CANCELLED


def test_cancelled_takes_precedence_over_completed_of_skipped_configs() -> None:
    # config 2 is skipped, so COMPLETED would hold as well: CANCELLED is checked first
    jobs = [job(1, 1, J.CANCELLED), job(2, 1, J.CANCELLED)]
    assert reconcile_batch(configs(1), jobs).status is B.CANCELLED


def test_any_failed_is_failed_once_every_job_settled() -> None:
    jobs = [job(1, 1, J.FINISHED), job(2, 2, J.FAILED, workflow="77"), job(3, 3, J.CANCELLED)]
    outcome = reconcile_batch(configs(1, 2, 3), jobs)
    assert outcome.status is B.FAILED
    assert outcome.summary["failed_job_ids"] == [2]
    assert outcome.summary["failed_workflow_ids"] == ["77"]


@pytest.mark.parametrize(
    "unsettled",
    [J.INITIATED, J.SUBMITTING, J.SUBMITTED, J.QUEUED, J.PENDING, J.RUNNING,
     J.CANCEL_REQUESTED, J.CANCELLING],
)
def test_a_failure_leaves_the_batch_active_while_other_work_is_in_flight(
    unsettled: JobStatus,
) -> None:
    jobs = [job(1, 1, J.FINISHED), job(2, 2, J.FAILED, workflow="77"), job(3, 3, unsettled)]
    outcome = reconcile_batch(configs(1, 2, 3), jobs)
    assert outcome.status is B.ACTIVE
    assert outcome.summary["failed_job_ids"] == [2]  # the failure is reported all the same
    settled = [job(1, 1, J.FINISHED), job(2, 2, J.FAILED), job(3, 3, J.FINISHED)]
    assert reconcile_batch(configs(1, 2, 3), settled).status is B.FAILED


def test_cancels_in_flight_leave_the_batch_active_until_every_job_is_cancelled() -> None:
    cancelling = [job(1, 1, J.CANCELLED), job(2, 2, J.CANCELLING)]
    assert reconcile_batch(configs(1, 2), cancelling).status is B.ACTIVE
    done = [job(1, 1, J.CANCELLED), job(2, 2, J.CANCELLED)]
    assert reconcile_batch(configs(1, 2), done).status is B.CANCELLED


def test_a_skipped_job_in_flight_does_not_hold_the_outcome() -> None:
    jobs = [job(1, 1, J.FAILED), job(2, 2, J.FINISHED), job(3, 2, J.RUNNING, skipped=True)]
    assert reconcile_batch(configs(1, 2), jobs).status is B.FAILED


def test_every_config_fulfilled_is_completed_even_with_a_spare_job_in_flight() -> None:
    jobs = [job(1, 1, J.FINISHED), job(2, 1, J.RUNNING)]
    assert reconcile_batch(configs(1), jobs).status is B.COMPLETED


def test_error_counts_as_failed() -> None:
    assert reconcile_batch(configs(1), [job(1, 1, J.ERROR)]).status is B.FAILED


def test_failed_takes_precedence_over_cancelled_and_completed() -> None:
    jobs = [job(1, 1, J.CANCELLED), job(2, 1, J.FAILED), job(3, 1, J.FINISHED)]
    assert reconcile_batch(configs(1), jobs).status is B.FAILED


def test_every_config_fulfilled_is_completed() -> None:
    jobs = [job(1, 1, J.FINISHED), job(2, 2, J.FORCED_OK)]
    outcome = reconcile_batch(configs(1, 2), jobs)
    assert outcome.status is B.COMPLETED
    assert outcome.summary["fulfilled_configs"] == 2


def test_jobs_in_progress_are_active() -> None:
    jobs = [job(1, 1, J.FINISHED), job(2, 2, J.RUNNING)]
    outcome = reconcile_batch(configs(1, 2), jobs)
    assert outcome.status is B.ACTIVE
    assert outcome.summary["unfulfilled_config_ids"] == [2]


def test_skipped_jobs_are_ignored() -> None:
    jobs = [job(1, 1, J.FAILED, skipped=True), job(2, 1, J.FINISHED)]
    outcome = reconcile_batch(configs(1), jobs)
    assert outcome.status is B.COMPLETED
    assert outcome.summary["failed_job_ids"] == []


def test_skipped_finished_job_does_not_fulfil() -> None:
    outcome = reconcile_batch(configs(1), [job(1, 1, J.FINISHED, skipped=True)])
    assert outcome.status is B.ACTIVE


def test_resubmitted_job_finished_fulfils_its_config() -> None:
    jobs = [job(1, 1, J.RUNNING, skipped=True), job(2, 1, J.FINISHED)]
    assert reconcile_batch(configs(1), jobs).status is B.COMPLETED


def test_failed_job_resubmitted_with_new_one_running_is_active() -> None:
    jobs = [job(1, 1, J.FAILED, skipped=True), job(2, 1, J.RUNNING), job(3, 2, J.FINISHED)]
    assert reconcile_batch(configs(1, 2), jobs).status is B.ACTIVE


def test_finished_and_cancelled_mix_with_unfulfilled_config_is_active() -> None:
    jobs = [job(1, 1, J.FINISHED), job(2, 2, J.CANCELLED)]
    outcome = reconcile_batch(configs(1, 2), jobs)
    assert outcome.status is B.ACTIVE
    assert outcome.summary["unfulfilled_config_ids"] == [2]


def test_forced_ok_fulfils() -> None:
    assert reconcile_batch(configs(1), [job(1, 1, J.FORCED_OK)]).status is B.COMPLETED


def test_all_skipped_is_completed() -> None:
    jobs = [job(1, 1, J.FAILED, skipped=True), job(2, 2, J.CANCELLED, skipped=True)]
    outcome = reconcile_batch(configs(1, 2, skipped=(1, 2)), jobs)
    assert outcome.status is B.COMPLETED
    assert outcome.summary["total_configs"] == 0


def test_empty_batch_is_completed() -> None:
    assert reconcile_batch([], []).status is B.COMPLETED


def test_configs_without_jobs_are_active() -> None:
    assert reconcile_batch(configs(1), []).status is B.ACTIVE


def test_skipped_config_needs_no_job() -> None:
    jobs = [job(1, 1, J.FINISHED)]
    assert reconcile_batch(configs(1, 2, skipped=(2,)), jobs).status is B.COMPLETED


def test_summary_has_exactly_the_spec_keys_and_is_json() -> None:
    jobs = [
        job(8, 1, J.FAILED, workflow="100"),
        job(5, 2, J.FAILED, workflow="99"),
        job(6, 3, J.ERROR),  # refused before Moody's gave it an id
        job(1, 4, J.FINISHED),
        job(2, 4, J.FINISHED, skipped=True),
        job(3, 5, J.RUNNING),
    ]
    outcome = reconcile_batch(configs(1, 2, 3, 4, 5, 6, skipped=(6,)), jobs)
    assert outcome.summary == {
        "total_configs": 5,
        "fulfilled_configs": 1,
        "total_jobs": 6,
        "job_status_counts": {"ERROR": 1, "FAILED": 2, "FINISHED": 1, "RUNNING": 1, "SKIPPED": 1},
        "failed_job_ids": [5, 6, 8],
        "unfulfilled_config_ids": [1, 2, 3, 5],
        "failed_workflow_ids": ["99", "100"],
    }
    assert json.loads(json.dumps(outcome.summary)) == outcome.summary


def test_skipped_count_is_always_present() -> None:
    summary = reconcile_batch(configs(1), [job(1, 1, J.QUEUED)]).summary
    assert summary["job_status_counts"] == {"QUEUED": 1, "SKIPPED": 0}


def test_plain_string_statuses_from_the_database_count() -> None:
    jobs = [ReconJob(1, 1, "FINISHED", False, None)]  # type: ignore[arg-type]
    assert reconcile_batch(configs(1), jobs).status is B.COMPLETED


def test_hundred_thousand_jobs_in_one_pass() -> None:
    n = 100_000
    all_configs = (ReconJobConfiguration(i) for i in range(n))
    all_jobs = (ReconJob(i, i, J.FINISHED if i % 10 else J.RUNNING) for i in range(n))
    outcome = reconcile_batch(all_configs, all_jobs)  # generators: read once
    assert outcome.status is B.ACTIVE
    assert outcome.summary["fulfilled_configs"] == n - n // 10
    assert outcome.summary["job_status_counts"]["RUNNING"] == n // 10


def test_long_id_lists_are_cut_and_their_lengths_kept() -> None:
    jobs = [job(i, i, J.FAILED, workflow=str(1000 + i)) for i in range(1, 8)]
    outcome = reconcile_batch(configs(*range(1, 10)), jobs, max_listed=3)
    summary = outcome.summary
    assert outcome.status is BatchStatus.FAILED
    assert summary["failed_job_ids"] == [1, 2, 3]
    assert summary["failed_workflow_ids"] == ["1001", "1002", "1003"]
    assert summary["unfulfilled_config_ids"] == [1, 2, 3]
    assert summary.get("lists_truncated") == {
        "failed_job_ids": 7,
        "failed_workflow_ids": 7,
        "unfulfilled_config_ids": 9,
    }
    assert summary["job_status_counts"]["FAILED"] == 7
