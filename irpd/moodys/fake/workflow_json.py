"""The RM Workflow object written straight to JSON text: the hot path of ``ids=`` lookups.

:func:`irpd.moodys.fake.render.render_workflow` is the reference (a dict); this module
writes the same document for single-operation workflows with one f-string, about three
times faster than building and encoding the dict. Multi-operation workflows go through the
reference. The fake's tests check both give the same document in every state.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from irpd.moodys.fake.rawjson import encode
from irpd.moodys.fake.render import (
    View,
    job_uuid,
    render_workflow,
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


def workflow_json(record: WorkflowRecord, view: View) -> str:
    """The Workflow object of *record* at ``view.now`` as compact JSON."""
    if record.operations:
        return encode(render_workflow(record, view)).decode()
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
    body = record.body_text if record.body_text.strip() else "{}"
    job = (
        f'{{"id":"{job_uuid(record.id, 0)}","taskId":1,"workflowId":{record.id},'
        f'"status":"{status}","submitTime":{submitted},"createdAt":{submitted},'
        f'"name":{kind},"input":{body},"output":{job_output},"priorJobs":[],'
        f'"percentComplete":{progress},"continueOnFailure":false}}'
    )
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
