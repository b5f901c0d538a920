"""The RM Workflow object written straight to JSON text: the hot path of ``ids=`` lookups.

:func:`irpd.moodys.fake.render.render_workflow` is the reference (a dict); this module
writes the same document with f-strings, about three times faster than building and
encoding the dict. The fake's tests check both give the same document in every state, for
single- and multi-operation workflows.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from irpd.moodys.fake.render import (
    View,
    job_uuid,
    operation_states,
    result_output,
    workflow_messages,
    workflow_times,
)
from irpd.moodys.fake.timeline import FAILED, FINISHED, WorkflowRecord

_encode = json.JSONEncoder(separators=(",", ":")).encode


@functools.lru_cache(maxsize=256)
def _text(value: str) -> str:
    """A few distinct strings (tenant, user) rendered on every workflow."""
    return _encode(value)


def _fixed(record: WorkflowRecord) -> tuple[str, str, str]:
    """Name, type and summary as JSON: fixed at birth, so rendered once per record."""
    if record.fixed_json is None:
        record.fixed_json = (_encode(record.name), _encode(record.type), _encode(record.summary))
    return record.fixed_json


def _optional(text: str | None) -> str:
    return "null" if text is None else f'"{text}"'


def _job(
    record: WorkflowRecord,
    index: int,
    name: str,
    status: str,
    percent: int,
    body: str,
    output: str,
    prior: str,
) -> str:
    submitted = f'"{record.submit_iso}"'
    return (
        f'{{"id":"{job_uuid(record.id, index)}","taskId":{index + 1},'
        f'"workflowId":{record.id},"status":"{status}","submitTime":{submitted},'
        f'"createdAt":{submitted},"name":{name},"input":{body},"output":{output},'
        f'"priorJobs":[{prior}],"percentComplete":{percent},"continueOnFailure":false}}'
    )


def _operation_jobs(record: WorkflowRecord, status: str, now: float) -> str:
    """The ``jobs`` of a multi-operation workflow, each after the one before it."""
    failure = _encode({"errors": [{"message": record.message}]}) if status == FAILED else "{}"
    jobs: list[str] = []
    prior = ""
    states = operation_states(record, status, now)
    for index, (label, (state, percent)) in enumerate(zip(record.operations, states, strict=True)):
        body = record.op_inputs[index] if index < len(record.op_inputs) else "{}"
        output = failure if state == FAILED else "{}"
        jobs.append(_job(record, index, _text(label), state, percent, body, output, prior))
        prior = f'"{job_uuid(record.id, index)}"'
    return ",".join(jobs)


def workflow_json(record: WorkflowRecord, view: View) -> str:
    """The Workflow object of *record* at ``view.now`` as compact JSON."""
    now = view.now
    status = record.status_at(now)
    progress = record.progress_at(now)
    start_iso, end_iso = workflow_times(record, status, now)
    if status == FINISHED:
        output = job_output = _encode(result_output(record, view.base_url))
    elif status == FAILED:
        output, job_output = "{}", _encode({"errors": [{"message": record.message}]})
    else:
        output = job_output = "{}"
    messages = workflow_messages(record, status, view.paused)
    submitted = f'"{record.submit_iso}"'
    name, kind, summary = _fixed(record)
    if record.operations:
        job = _operation_jobs(record, status, now)
    else:
        body = record.body_text if record.body_text.strip() else "{}"
        job = _job(record, 0, kind, status, progress, body, job_output, "")
    return (
        f'{{"id":{record.id},"tenantName":{_text(view.tenant)},'
        f'"userName":{_text(view.user)},"status":"{status}","submitTime":{submitted},'
        f'"startTime":{_optional(start_iso)},"endTime":{_optional(end_iso)},'
        f'"name":{name},"type":{kind},"progress":{progress},"jobs":[{job}],'
        f'"summary":{summary},"output":{output},'
        f'"messages":{_encode(messages) if messages else "[]"}}}'
    )


def workflow_list_json(total: int, records: Sequence[WorkflowRecord], view: View) -> bytes:
    """``{"totalMatchCount": total, "workflows": [...]}`` for one page."""
    parts = ",".join(workflow_json(record, view) for record in records)
    return f'{{"totalMatchCount":{total},"workflows":[{parts}]}}'.encode()
