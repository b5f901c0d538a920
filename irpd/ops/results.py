"""What the operations return: typed dicts of JSON values, exactly what the wire carries.

Every public operation of :mod:`irpd.ops` answers one of these (or a list of them). They are
``TypedDict``\\ s, not dataclasses, on purpose: the result *is* the answer of the control
socket and of ``/api/v1`` (the edge only encodes it, :func:`irpd.control.protocol.ok_chunks` /
:mod:`irpd.web.api`), so the JSON stays byte for byte what it was, while mypy checks every key
a caller reads. Rows read from SQL become their type through :func:`shaped` (the columns of
the named query, in its order); ``tests/integration/ops/test_result_shapes.py`` checks that
each type names exactly the keys its operation answers.

Values are JSON types: timestamps are ISO-8601 strings, statuses their text.
"""

# no ``from __future__ import annotations``: TypedDict reads NotRequired from live annotations
from collections.abc import Iterable, Mapping
from typing import Any, NotRequired, TypedDict, TypeVar, cast

from irpd.ops.rows import plain_row

R = TypeVar("R")


def shaped(kind: type[R], row: Mapping[str, Any]) -> R:
    """A database row as the typed result ``kind`` (its columns as JSON values)."""
    return cast(R, plain_row(row))


def shaped_rows(kind: type[R], rows: Iterable[Mapping[str, Any]]) -> list[R]:
    """Rows as a list of :func:`shaped` results."""
    return [shaped(kind, row) for row in rows]


# --- cycles ---------------------------------------------------------------------------------
class Cycle(TypedDict):
    """A cycle (``read_cycle``, ``archive_cycle``, ``active_cycle``)."""

    id: int
    cycle_name: str
    status: str
    created_ts: str
    archived_ts: str | None


class CreatedCycle(Cycle):
    """``create_cycle``: the new cycle and the one it archived, if any."""

    archived_cycle: Cycle | None


class ListedCycle(Cycle):
    """A row of ``list_cycles``."""

    configurations: int


# --- configurations ---------------------------------------------------------------------------
class WorkbookRead(TypedDict):
    """What ``load_configuration`` read: the workbook, for which cycle."""

    cycle_id: int
    cycle_name: str
    configuration_file_name: str
    file_sha256: str
    dry_run: bool


class RegisteredConfiguration(TypedDict):
    """A valid workbook registered: the new configuration and those it replaced."""

    valid: bool
    problems: list[dict[str, Any]]
    configuration_id: int
    status: str
    created_ts: str
    replaced_configuration_ids: list[int]


class LoadedConfiguration(WorkbookRead):
    """``load_configuration``: the workbook's verdict, and when registered, the new row."""

    valid: bool
    problems: list[dict[str, Any]]
    #: a valid dry run: the sheets read
    sheets: NotRequired[list[str]]
    #: registered
    configuration_id: NotRequired[int]
    status: NotRequired[str]
    created_ts: NotRequired[str]
    replaced_configuration_ids: NotRequired[list[int]]


class ConfigurationHead(TypedDict):
    """The columns every configuration result has."""

    id: int
    cycle_id: int
    cycle_name: str
    configuration_file_name: str
    status: str
    file_sha256: str
    created_ts: str
    updated_ts: str


class ConfigurationRow(ConfigurationHead):
    """A configuration without its data (``list_configurations``)."""

    batches: int


class Configuration(ConfigurationHead):
    """``read_configuration``: one configuration with its data."""

    cycle_status: str
    configuration_data: dict[str, Any]


# --- batches ----------------------------------------------------------------------------------
class InsertedBatch(TypedDict):
    """The row ``batch_insert_with_jobs`` returns."""

    batch_id: int
    status: str
    created_ts: str
    job_configurations: int
    jobs: int


class CreatedBatch(InsertedBatch):
    """``create_batch``."""

    batch_type: str
    configuration_id: int
    step_id: int | None
    duplicate_reason: str | None


class QueuedJob(TypedDict):
    """A job a submission queued for the dispatcher."""

    job_id: int
    status: str


class SubmittedBatch(TypedDict):
    """``submit_batch``."""

    batch_id: int
    batch_status: str
    previous_status: str
    submitted_ts: str | None
    configuration_status: str
    submitted_jobs: int
    jobs: list[QueuedJob]


class BatchRow(TypedDict):
    """A row of ``list_batches``."""

    id: int
    configuration_id: int
    cycle_id: int
    batch_type: str
    step_id: int | None
    status: str
    created_ts: str
    submitted_ts: str | None
    completed_ts: str | None
    updated_ts: str


class Batch(BatchRow):
    """``read_batch``: one batch with its cycle's name, its step and counts."""

    cycle_name: str
    step_name: str | None
    job_configurations: int
    jobs: int


class JobHead(TypedDict):
    """The columns every job row starts with."""

    id: int
    batch_id: int
    job_configuration_id: int
    parent_job_id: int | None
    status: str
    skipped: bool
    skipped_reason_txt: str | None
    forced_ok_reason_txt: str | None


class BatchJob(JobHead):
    """A narrow job row of ``get_batch_jobs``."""

    moodys_workflow_id: str | None
    progress: int | None
    last_error: str | None
    poll_count: int
    submit_requested_ts: str | None
    submitted_ts: str | None
    last_tracked_ts: str | None
    status_changed_ts: str
    completed_ts: str | None
    created_ts: str
    updated_ts: str
    replaced_by_job_id: int | None


class JobConfiguration(TypedDict):
    """A job configuration with its data (``get_job_config``,
    ``get_batch_job_configurations``)."""

    id: int
    batch_id: int
    configuration_id: int
    job_configuration_data: dict[str, Any]
    skipped: bool
    skipped_reason_txt: str | None
    overridden: bool
    override_reason_txt: str | None
    parent_job_configuration_id: int | None
    override_job_configuration_id: int | None
    created_ts: str
    updated_ts: str


class MissingReferences(TypedDict):
    """A job whose Moody's references are missing, in words."""

    job_id: int
    missing: list[str]


class Preflight(TypedDict):
    """``preflight_batch``: the jobs a submission would queue, checked against Moody's."""

    batch_id: int
    dry_run: bool
    checked: int
    missing: list[MissingReferences]
    refused: list[int]


class Reconciled(TypedDict):
    """``recon_batch``: what the batch now is and what its jobs say."""

    batch_id: int
    status: str
    computed_status: str
    previous_status: str
    #: a recon log row was written
    completed_ts: NotRequired[str | None]
    recon_log_id: int | None
    summary: dict[str, Any] | None
    #: the daemon's reconciliation was put off (paced): seconds until it comes back
    retry_in: NotRequired[float | None]


class CancelledBatch(TypedDict):
    """``cancel_batch``: how many jobs each way."""

    batch_id: int
    reason: str
    cancelled: int
    cancel_requested: int
    unchanged: int


class DeletedBatch(TypedDict):
    """``delete_batch``."""

    batch_id: int
    deleted: bool
    jobs: int
    reason: str


# --- jobs -------------------------------------------------------------------------------------
class CreatedJob(TypedDict):
    """``create_job``."""

    job_id: int
    batch_id: int
    job_configuration_id: int
    status: str
    created_ts: str


class Job(JobHead):
    """``read_job``: every column of the job, with its batch's status and type."""

    submit_requested_ts: str | None
    idempotency_key: str | None
    workflow_name: str | None
    submitting_ts: str | None
    submission_attempts: int
    moodys_workflow_id: str | None
    submission_request: dict[str, Any] | None
    submission_response: dict[str, Any] | None
    submitted_ts: str | None
    progress: int | None
    last_error: str | None
    last_tracked_ts: str | None
    next_poll_at: str | None
    poll_count: int
    status_changed_ts: str
    completed_ts: str | None
    created_ts: str
    updated_ts: str
    engine_phase: str | None
    moodys_missing_since: str | None
    configuration_id: int
    batch_status: str
    batch_type: str


class JobMoved(TypedDict):
    """``cancel_job``, ``force_ok_job``: the operator's move and its audit row's time."""

    job_id: int
    status: str
    previous_status: str
    tracked_ts: str
    #: the control socket wakes the reconciler with it
    batch_id: int


class SkipRow(TypedDict):
    """The row ``job_skip`` returns."""

    job_id: int
    status: str
    job_configuration_id: int
    job_configuration_skipped: bool
    tracked_ts: str


class SkippedJob(SkipRow):
    """``skip_job``."""

    skipped: bool
    skipped_reason_txt: str
    batch_id: int


class QueueRow(TypedDict):
    """The row ``job_queue`` returns."""

    job_id: int
    status: str
    submit_requested_ts: str


class SubmittedJob(QueueRow):
    """``submit_job``."""

    resubmitted_from_job_id: int | None
    batch_id: int
    batch_status: str


class ResubmittedJob(TypedDict):
    """``resubmit_job``: the new job (the row ``job_resubmit_*`` returns) and how."""

    job_id: int
    batch_id: int
    job_configuration_id: int
    parent_job_id: int
    status: str
    created_ts: str
    overridden: bool
    audit_rows: int
    override_reason_txt: str | None
    queued: bool
    #: queued: the batch's status after it
    batch_status: NotRequired[str]


class Replacement(TypedDict):
    """An old job and the new one replacing it."""

    job_id: int
    new_job_id: int


class ResubmittedFailed(TypedDict):
    """``resubmit_failed``: every FAILED/ERROR job of a batch replaced."""

    batch_id: int
    batch_status: str
    resubmitted: int
    queued: int
    override_reason_txt: str | None
    jobs: list[Replacement]


class AppliedStatus(TypedDict):
    """``apply_status_fact`` (``job track``): what the job machine made of a reported status."""

    job_id: int
    batch_id: int
    reported_status: str
    decision: str
    reason: str
    previous_status: str
    status: str
    changed: bool
    terminal: bool
    progress: int | None
    poll_count: int
    tracking_log_id: int | None
    tracked_ts: str | None


class TrackingEntry(TypedDict):
    """A row of the job's tracking log (the audit row of every status change it made)."""

    id: int
    job_id: int
    moodys_workflow_id: str | None
    job_status: str
    previous_status: str | None
    source: str
    tracking_data: dict[str, Any] | None
    tracked_ts: str


class OverrideChanges(TypedDict):
    """An overriding job configuration as its changes against its parent."""

    parent_job_configuration_id: int
    reason: str | None
    changes: Any


class JobHistory(TypedDict):
    """``job_history``: the job, its configuration, tracking log and resubmission chain."""

    job: Job
    job_configuration: JobConfiguration
    tracking_log: list[TrackingEntry]
    lineage: list[dict[str, Any]]
    ancestors: list[int]
    descendants: list[int]
    override: OverrideChanges | None


# --- reports ----------------------------------------------------------------------------------
class BatchReport(TypedDict):
    """An ``irp_batch_report`` row."""

    batch_id: int
    batch_type: str
    status: str
    configuration_id: int
    cycle_id: int
    cycle_name: str
    step_id: int | None
    created_ts: str
    submitted_ts: str | None
    completed_ts: str | None
    updated_ts: str
    total_configs: int
    skipped_configs: int
    fulfilled_configs: int
    progress_pct: int
    total_jobs: int
    skipped_jobs: int
    unsubmitted_jobs: int
    queued_jobs: int
    submitting_jobs: int
    in_flight_jobs: int
    cancelling_jobs: int
    finished_jobs: int
    forced_ok_jobs: int
    failed_jobs: int
    cancelled_jobs: int
    status_counts: dict[str, int]
    last_recon_ts: str | None
    last_recon_result: str | None
    next_action: str


class JobReport(TypedDict):
    """An ``irp_job_report`` row."""

    job_id: int
    batch_id: int
    batch_type: str
    batch_status: str
    configuration_id: int
    cycle_id: int
    cycle_name: str
    job_configuration_id: int
    overridden: bool
    parent_job_id: int | None
    status: str
    skipped: bool
    skipped_reason_txt: str | None
    forced_ok_reason_txt: str | None
    progress: int | None
    moodys_workflow_id: str | None
    submission_attempts: int
    poll_count: int
    last_error: str | None
    created_ts: str
    submit_requested_ts: str | None
    submitted_ts: str | None
    last_tracked_ts: str | None
    next_poll_at: str | None
    status_changed_ts: str
    completed_ts: str | None
    seconds_in_status: int
    terminal: bool
    next_action: str


# --- cycle plans ------------------------------------------------------------------------------
class StepProgress(TypedDict):
    """One step of a cycle's plan: its definition, its run's state, what it waits for."""

    step: str
    stage: str
    #: None: a manual checkpoint, completed by approval
    batch_type: str | None
    after: list[str]
    start_when: str
    approval: bool
    status: str
    batch_id: int | None
    batch_status: str | None
    started_ts: str | None
    finished_ts: str | None
    approved_by: str | None
    note: str | None
    waiting_for: str | None


class PlanState(TypedDict):
    """``run_plan``, ``plan_status``: the plan and each step's state."""

    cycle_id: int
    cycle_name: str
    cycle_status: str
    configuration_id: int
    plan_name: str
    until_step: str | None
    status: str
    started_by: str | None
    created_ts: str
    updated_ts: str
    finished_ts: str | None
    steps: list[StepProgress]


class PlanStatusSet(TypedDict):
    """``pause_plan``, ``resume_plan``."""

    cycle_id: int
    cycle_name: str
    status: str


class ApprovedStep(TypedDict):
    """``approve_step``."""

    cycle_id: int
    step: str
    approved_by: str
