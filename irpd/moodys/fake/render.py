"""JSON views of records: the RM Workflow object (spec §2.3) and the Platform job object."""

from __future__ import annotations

from typing import Any

from irpd.moodys.fake.clock import iso
from irpd.moodys.fake.rawjson import RawJson
from irpd.moodys.fake.simulation import PAUSED_MESSAGE
from irpd.moodys.fake.timeline import (
    CANCELLED,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    TERMINAL,
    WorkflowRecord,
)


class View:
    """Everything rendering needs besides the record."""

    __slots__ = ("base_url", "now", "paused", "tenant", "user")

    def __init__(self, *, now: float, base_url: str, tenant: str, user: str, paused: bool) -> None:
        self.now = now
        self.base_url = base_url
        self.tenant = tenant
        self.user = user
        self.paused = paused


#: ``%`` format of a job's UUID from (workflow id & 0xFFFFFFFF, job index)
JOB_UUID_FORMAT = "%08x-0000-4000-8000-%012x"


def job_uuid(workflow_id: int, index: int) -> str:
    """A stable UUID-shaped id for the *index*-th job of a workflow."""
    return JOB_UUID_FORMAT % (workflow_id & 0xFFFFFFFF, index)


def _start_iso(record: WorkflowRecord, now: float) -> str | None:
    start = record.run_start
    if start is None or now < start:
        return None
    if record.cancel_at is not None and record.cancel_at <= start:
        return None  # cancelled before it ever ran
    if record.start_iso is None:
        record.start_iso = iso(start)
    return record.start_iso


def workflow_times(
    record: WorkflowRecord, status: str, now: float
) -> tuple[str | None, str | None]:
    """(startTime, endTime) as rendered."""
    end_iso = None
    if status in TERMINAL:
        if record.end_iso is None:
            end = record.end_time()
            record.end_iso = iso(end) if end is not None else None
        end_iso = record.end_iso
    return _start_iso(record, now), end_iso


def _input(record: WorkflowRecord) -> RawJson:
    return RawJson(record.body_text if record.body_text.strip() else "{}")


def workflow_messages(record: WorkflowRecord, status: str, paused: bool) -> list[dict[str, str]]:
    """The `messages` array."""
    if status == FAILED:
        return [{"message": record.message or "Workflow failed", "type": "ERROR"}]
    if status == CANCELLED:
        return [{"message": "Workflow cancelled at the user's request", "type": "INFO"}]
    if status == QUEUED and paused:
        return [{"message": PAUSED_MESSAGE, "type": "WARNING"}]
    return []


def result_output(record: WorkflowRecord, base_url: str) -> dict[str, Any]:
    """What a FINISHED workflow reports in ``output``."""
    kind = record.type
    if kind in ("ANALYTICS_JOB", "DLM", "HD", "ALM"):
        return {"analysisId": record.result_id, "analysisName": record.name}
    if kind == "GROUPING":
        return {"groupId": record.result_id, "groupName": record.name}
    if kind in ("EXPORT_RDM", "DOWNLOAD_RDM"):
        return {
            "rdmName": record.summary.get("rdmName", record.name),
            "downloadUrl": f"{base_url}/__fake__/downloads/{record.id}.bak",
        }
    if kind == "MRI_IMPORT":
        accounts = 10 + record.id % 90
        return {"message": f"Imported {accounts} Accounts and {accounts * 7} Locations"}
    if kind == "CREATE_EDM":
        return {"datasourceName": record.summary.get("datasourceName", record.name)}
    return {}


def operation_states(record: WorkflowRecord, status: str, now: float) -> list[tuple[str, int]]:
    """(status, percent) of each operation of a multi-operation workflow."""
    count = len(record.operations)
    if status not in (RUNNING, FINISHED, FAILED) and record.cancel_at is None:
        return [(status, 0)] * count
    scale = record.fail_progress / 100 if record.fails else 1.0
    position = record.fraction_at(now) * scale * count
    current = min(count - 1, int(position))
    states = []
    for index in range(count):
        if status == FINISHED or index < current:
            states.append((FINISHED, 100))
        elif index == current:
            percent = min(99, int((position - index) * 100))
            states.append((status, percent))
        else:
            states.append((CANCELLED if status in TERMINAL else QUEUED, 0))
    return states


def _jobs(record: WorkflowRecord, status: str, progress: int, view: View) -> list[dict[str, Any]]:
    failure = {"errors": [{"message": record.message}]} if status == FAILED else {}
    if not record.operations:
        output = result_output(record, view.base_url) if status == FINISHED else failure
        return [_job(record, 0, record.type, status, progress, _input(record), output)]
    jobs = []
    prior: list[str] = []
    for index, (label, (state, percent)) in enumerate(
        zip(record.operations, operation_states(record, status, view.now), strict=True)
    ):
        op_input = RawJson(record.op_inputs[index] if index < len(record.op_inputs) else "{}")
        output = failure if state == FAILED else {}
        job = _job(record, index, label, state, percent, op_input, output)
        job["priorJobs"] = list(prior)
        prior = [job["id"]]
        jobs.append(job)
    return jobs


def _job(
    record: WorkflowRecord,
    index: int,
    name: str,
    status: str,
    percent: int,
    body: Any,
    output: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": job_uuid(record.id, index),
        "taskId": index + 1,
        "workflowId": record.id,
        "status": status,
        "submitTime": record.submit_iso,
        "createdAt": record.submit_iso,
        "name": name,
        "input": body,
        "output": output,
        "priorJobs": [],
        "percentComplete": percent,
        "continueOnFailure": False,
    }


def render_workflow(record: WorkflowRecord, view: View) -> dict[str, Any]:
    """The RM Workflow object of *record* at ``view.now``."""
    now = view.now
    status = record.status_at(now)
    progress = record.progress_at(now)
    start_iso, end_iso = workflow_times(record, status, now)
    return {
        "id": record.id,
        "tenantName": view.tenant,
        "userName": view.user,
        "status": status,
        "submitTime": record.submit_iso,
        "startTime": start_iso,
        "endTime": end_iso,
        "name": record.name,
        "type": record.type,
        "progress": progress,
        "jobs": _jobs(record, status, progress, view),
        "summary": record.summary,
        "output": result_output(record, view.base_url) if status == FINISHED else {},
        "messages": workflow_messages(record, status, view.paused),
    }


def render_platform_job(record: WorkflowRecord, view: View) -> dict[str, Any]:
    """The Platform job object of *record* at ``view.now``."""
    now = view.now
    status = record.status_at(now)
    progress = record.progress_at(now)
    start_iso, end_iso = workflow_times(record, status, now)
    output: dict[str, Any] = {"summary": f"{record.type} {status.lower()}", "errors": [], "log": {}}
    if status == FAILED:
        output["errors"] = [{"message": record.message}]
    elif status == FINISHED:
        output["log"] = result_output(record, view.base_url)
    tasks = [_task(record, 0, record.type, status, progress, output)]
    if record.type == "DOWNLOAD_RDM" and status == FINISHED:
        url = result_output(record, view.base_url)["downloadUrl"]
        tasks.append(
            _task(
                record,
                1,
                "DOWNLOAD_RESULTS",
                status,
                100,
                {"summary": "download ready", "errors": [], "log": {"downloadUrl": url}},
            )
        )
    return {
        "jobId": str(record.id),
        "type": record.type,
        "name": record.name,
        "userName": view.user,
        "status": status,
        "progress": progress,
        "priority": record.priority,
        "submittedAt": record.submit_iso,
        "startedAt": start_iso,
        "endedAt": end_iso,
        "resourceGroupId": record.summary.get("resourceGroupId"),
        "entitlement": "RI-RISKMODELER",
        "tasks": tasks,
        "messages": workflow_messages(record, status, view.paused),
    }


def _task(
    record: WorkflowRecord,
    index: int,
    name: str,
    status: str,
    percent: int,
    output: dict[str, Any],
) -> dict[str, Any]:
    guid = job_uuid(record.id, index)
    return {
        "taskId": index + 1,
        "guid": guid,
        "jobId": str(record.id),
        "status": status,
        "submittedAt": record.submit_iso,
        "createdAt": record.submit_iso,
        "name": name,
        "percentComplete": percent,
        "priorTaskGuids": [job_uuid(record.id, index - 1)] if index else [],
        "output": output,
    }
