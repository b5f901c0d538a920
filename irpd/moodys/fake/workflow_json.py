"""The RM Workflow object written straight to JSON text: the hot path of ``ids=`` lookups.

:func:`irpd.moodys.fake.render.render_workflow` is the reference (a dict); this module
writes the same document with f-strings, about three times faster than building and
encoding the dict. The fake's tests check both give the same document in every state, for
single- and multi-operation workflows.

What never changes after a record's birth (name, type, summary and input as JSON, the head
of its first job with the job's UUID) is rendered once and kept on the record
(``fixed_json``); the states a status lookup mostly sees (QUEUED, PENDING, RUNNING, not
cancelled) are read in one pass over the timeline, the others through the reference's own
helpers.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence

from irpd.moodys.fake.clock import iso
from irpd.moodys.fake.render import (
    JOB_UUID_FORMAT,
    View,
    job_uuid,
    operation_states,
    result_output,
    workflow_messages,
    workflow_times,
)
from irpd.moodys.fake.timeline import FAILED, FINISHED, PENDING, QUEUED, RUNNING, WorkflowRecord

_encode = json.JSONEncoder(separators=(",", ":")).encode

#: statuses whose ``messages`` are always empty (see ``workflow_messages``)
_NO_MESSAGES = frozenset({PENDING, RUNNING, FINISHED})


@functools.lru_cache(maxsize=256)
def _text(value: str) -> str:
    """A few distinct strings (types, operation labels) rendered on many workflows."""
    return _encode(value)


@functools.lru_cache(maxsize=64)
def _people(tenant: str, user: str) -> str:
    """The view's part of a document, between the workflow id and its status."""
    return f'"tenantName":{_encode(tenant)},"userName":{_encode(user)},"status":"'


#: a job object up to its status, from (workflow id & 0xFFFFFFFF, index, index + 1, workflow id)
_JOB_HEAD = '{"id":"' + JOB_UUID_FORMAT + '","taskId":%d,"workflowId":%d,"status":"'


def _job_head(workflow_id: int, index: int) -> str:
    """A job object up to its status."""
    return _JOB_HEAD % (workflow_id & 0xFFFFFFFF, index, index + 1, workflow_id)


def _fixed(record: WorkflowRecord) -> tuple[str, str, str, str, str]:
    """Name, type, summary, input and the first job's head as JSON: fixed at birth, so
    rendered once per record."""
    fixed = record.fixed_json
    if fixed is None:
        body = record.body_text if record.body_text.strip() else "{}"
        fixed = record.fixed_json = (
            _encode(record.name),
            _text(record.type),
            _encode(record.summary) if record.summary else "{}",
            body,
            _job_head(record.id, 0),
        )
    return fixed


def _state(record: WorkflowRecord, now: float) -> tuple[str, int, str | None, str | None]:
    """(status, progress, startTime, endTime) at *now*, as the reference renders them."""
    admitted = record.admitted_at
    if record.cancel_at is None:
        if admitted is None:
            return QUEUED, 0, None, None
        start = admitted + record.pending_s
        if admitted <= now < start:
            return PENDING, 0, None, None
        running_s = record.running_s
        if start <= now < start + running_s:
            cap = record.fail_progress if record.fails else 100
            start_iso = record.start_iso
            if start_iso is None:
                start_iso = record.start_iso = iso(start)
            return RUNNING, min(99, int(cap * (now - start) / running_s)), start_iso, None
    status = record.status_at(now)
    start_iso, end_iso = workflow_times(record, status, now)
    return status, record.progress_at(now), start_iso, end_iso


def _job(
    head: str,
    submitted: str,
    name: str,
    status: str,
    percent: str,
    body: str,
    output: str,
    prior: str,
) -> str:
    return (
        f'{head}{status}","submitTime":"{submitted}","createdAt":"{submitted}",'
        f'"name":{name},"input":{body},"output":{output},"priorJobs":[{prior}],'
        f'"percentComplete":{percent},"continueOnFailure":false}}'
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
        head = _job_head(record.id, index)
        submitted = record.submit_iso
        jobs.append(_job(head, submitted, _text(label), state, str(percent), body, output, prior))
        prior = f'"{job_uuid(record.id, index)}"'
    return ",".join(jobs)


def _workflow(record: WorkflowRecord, view: View, people: str) -> str:
    now = view.now
    status, percent, start_iso, end_iso = _state(record, now)
    progress = str(percent)  # written twice
    if status == FINISHED:
        output = job_output = _encode(result_output(record, view.base_url))
    elif status == FAILED:
        output, job_output = "{}", _encode({"errors": [{"message": record.message}]})
    else:
        output = job_output = "{}"
    messages = "[]"
    if status not in _NO_MESSAGES:
        found = workflow_messages(record, status, view.paused)
        if found:
            messages = _encode(found)
    name, kind, summary, body, head = _fixed(record)
    submitted = record.submit_iso
    if record.operations:
        jobs = _operation_jobs(record, status, now)
    else:
        jobs = _job(head, submitted, kind, status, progress, body, job_output, "")
    started = "null" if start_iso is None else f'"{start_iso}"'
    ended = "null" if end_iso is None else f'"{end_iso}"'
    return (
        f'{{"id":{record.id},{people}{status}","submitTime":"{submitted}",'
        f'"startTime":{started},"endTime":{ended},'
        f'"name":{name},"type":{kind},"progress":{progress},"jobs":[{jobs}],'
        f'"summary":{summary},"output":{output},"messages":{messages}}}'
    )


def workflow_json(record: WorkflowRecord, view: View) -> str:
    """The Workflow object of *record* at ``view.now`` as compact JSON."""
    return _workflow(record, view, _people(view.tenant, view.user))


def workflow_list_json(total: int, records: Sequence[WorkflowRecord], view: View) -> bytes:
    """``{"totalMatchCount": total, "workflows": [...]}`` for one page."""
    people = _people(view.tenant, view.user)
    parts = [_workflow(record, view, people) for record in records] or [""]
    # one join for the whole page: the list's head and tail go on its first and last part
    parts[0] = f'{{"totalMatchCount":{total},"workflows":[{parts[0]}'
    parts[-1] += "]}"
    return ",".join(parts).encode()
