"""Batch reconciliation: the batch status that follows from its jobs, as a pure function.

Rule, checked in this order (the first that holds wins); skipped jobs never count and
skipped job configurations need no job:

0. **A batch has an outcome only once its work has settled.** While some non-skipped job is
   not terminal (INITIATED, being submitted, at Moody's, being cancelled), the batch is
   COMPLETED when 3. holds and no job failed, else ACTIVE: a failure meanwhile shows in the
   summary (``failed_job_ids``) and the report (``failed_jobs``, ``next_action``), not in
   the status. (A FAILED batch used to be declared while its other jobs still ran.)
1. **CANCELLED**: there is at least one non-skipped job and every one is CANCELLED.
2. **FAILED**: some non-skipped job is FAILED or ERROR.
3. **COMPLETED**: every non-skipped job configuration has a non-skipped FINISHED or
   FORCED_OK job. A batch with nothing left to do (all skipped, or empty) is COMPLETED.
4. **ACTIVE**: otherwise: waiting for an operator (e.g. a mix of FINISHED and CANCELLED
   jobs with a configuration left unfulfilled).

The result is what the jobs say; `statemachines.batch.batch_after_recon` decides what the
batch actually stores. One pass over the jobs, O(jobs + configurations).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NotRequired, Protocol, TypedDict

from statemachines.batch import BatchStatus
from statemachines.job import (
    FAILED_JOB_STATUSES,
    SUCCESSFUL_JOB_STATUSES,
    TERMINAL_JOB_STATUSES,
    JobStatus,
)

#: key of ``job_status_counts`` counting skipped jobs
SKIPPED_KEY = "SKIPPED"


class JobConfigurationFacts(Protocol):
    """What reconciliation reads of a job configuration."""

    @property
    def id(self) -> int: ...
    @property
    def skipped(self) -> bool: ...


class JobFacts(Protocol):
    """What reconciliation reads of a job."""

    @property
    def id(self) -> int: ...
    @property
    def job_configuration_id(self) -> int: ...
    @property
    def status(self) -> JobStatus: ...
    @property
    def skipped(self) -> bool: ...
    @property
    def moodys_workflow_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ReconJobConfiguration:
    """A job configuration as reconciliation sees it."""

    id: int
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class ReconJob:
    """A job as reconciliation sees it."""

    id: int
    job_configuration_id: int
    status: JobStatus
    skipped: bool = False
    moodys_workflow_id: str | None = None


class ReconSummary(TypedDict):
    """The JSON-able summary written to irp_batch_recon_log.recon_summary."""

    total_configs: int  # non-skipped job configurations (the ones that need a job)
    fulfilled_configs: int  # of those, the ones with a FINISHED/FORCED_OK job
    total_jobs: int  # every job of the batch, skipped ones included
    job_status_counts: dict[str, int]  # non-skipped jobs by status, plus SKIPPED
    failed_job_ids: list[int]  # non-skipped FAILED/ERROR jobs
    unfulfilled_config_ids: list[int]
    failed_workflow_ids: list[str]  # Moody's ids of the failed jobs (None skipped)
    #: present only when a list was cut to ``max_listed`` entries: list name → full length
    lists_truncated: NotRequired[dict[str, int]]


@dataclass(frozen=True, slots=True)
class ReconOutcome:
    """The status the jobs imply, and the summary to log."""

    status: BatchStatus
    summary: ReconSummary


def _workflow_order(workflow_id: str) -> tuple[int, str]:
    """Numeric order for numeric ids ("9" before "10"), lexical for the rest."""
    return (len(workflow_id), workflow_id)


def _decide(counts: Counter[str], failed_job_ids: list[int], unfulfilled: list[int]) -> BatchStatus:
    counted_jobs = counts.total()
    settled = sum(counts[status] for status in TERMINAL_JOB_STATUSES)
    if settled < counted_jobs:  # work in flight: no FAILED or CANCELLED outcome yet
        done = not unfulfilled and not failed_job_ids
        return BatchStatus.COMPLETED if done else BatchStatus.ACTIVE
    if counted_jobs and counts[JobStatus.CANCELLED] == counted_jobs:
        return BatchStatus.CANCELLED
    if failed_job_ids:
        return BatchStatus.FAILED
    if not unfulfilled:
        return BatchStatus.COMPLETED
    return BatchStatus.ACTIVE


#: a summary lists at most this many ids per list (a 100,000-job batch must not log megabytes)
MAX_LISTED = 1000


def reconcile_batch(
    configurations: Iterable[JobConfigurationFacts],
    jobs: Iterable[JobFacts],
    *,
    max_listed: int = MAX_LISTED,
) -> ReconOutcome:
    """Reconcile one batch from its job configurations and jobs (see module docstring).

    Each id list of the summary keeps its first ``max_listed`` entries; when one is cut,
    ``lists_truncated`` gives its full length (the counts stay exact)."""
    open_config_ids = {config.id for config in configurations if not config.skipped}
    counts: Counter[str] = Counter()
    fulfilled_config_ids: set[int] = set()
    failed_job_ids: list[int] = []
    failed_workflow_ids: list[str] = []
    skipped_jobs = 0
    for job in jobs:
        if job.skipped:
            skipped_jobs += 1
            continue
        status = job.status
        counts[status] += 1
        if status in SUCCESSFUL_JOB_STATUSES:
            fulfilled_config_ids.add(job.job_configuration_id)
        elif status in FAILED_JOB_STATUSES:
            failed_job_ids.append(job.id)
            if job.moodys_workflow_id is not None:
                failed_workflow_ids.append(job.moodys_workflow_id)
    unfulfilled = sorted(open_config_ids - fulfilled_config_ids)
    failed_job_ids.sort()
    batch_status = _decide(counts, failed_job_ids, unfulfilled)
    status_counts = {str(key): count for key, count in sorted(counts.items())}
    status_counts[SKIPPED_KEY] = skipped_jobs
    summary: ReconSummary = {
        "total_configs": len(open_config_ids),
        "fulfilled_configs": len(open_config_ids) - len(unfulfilled),
        "total_jobs": counts.total() + skipped_jobs,
        "job_status_counts": status_counts,
        "failed_job_ids": failed_job_ids,
        "unfulfilled_config_ids": unfulfilled,
        "failed_workflow_ids": sorted(failed_workflow_ids, key=_workflow_order),
    }
    _truncate(summary, max_listed)
    return ReconOutcome(batch_status, summary)


def _truncate(summary: ReconSummary, max_listed: int) -> None:
    cut: dict[str, int] = {}
    for key in ("failed_job_ids", "unfulfilled_config_ids", "failed_workflow_ids"):
        values: list[Any] = summary[key]
        if len(values) > max_listed:
            cut[key] = len(values)
            del values[max_listed:]
    if cut:
        summary["lists_truncated"] = cut
