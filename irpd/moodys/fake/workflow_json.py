"""The RM Workflow object written straight to JSON text: the hot path of ``ids=`` lookups.

:func:`irpd.moodys.fake.render.render_workflow` is the reference (a dict); this module
writes the same document with f-strings, several times faster than building and encoding
the dict. The fake's tests check both give the same document in every state, for single-
and multi-operation workflows, and that the fast path below writes exactly the bytes of the
general one.

What never changes after a record's birth is rendered once, on its first lookup, and kept
on the record as the few stretches of text between the parts that do change (see
:func:`_prepare`): ``{"id":N,``; the name and type up to ``"progress":``; the head of its
job up to ``"status":"``; the job's name and input up to ``"output":``; the tail of the job
and the summary up to the workflow's ``"output":``. Empty inputs and summaries share one
string. A page is then one f-string per record and one join.

The states a status lookup mostly sees (single operation, not cancelled: QUEUED, PENDING,
RUNNING, FINISHED) are read straight off the timeline in the page loop; the others go
through :func:`_workflow`, which uses the reference's own helpers.
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
from irpd.moodys.fake.simulation import PAUSED_MESSAGE
from irpd.moodys.fake.timeline import FAILED, FINISHED, PENDING, RUNNING, WorkflowRecord

_encode = json.JSONEncoder(separators=(",", ":")).encode

#: statuses whose ``messages`` are always empty (see ``workflow_messages``)
_NO_MESSAGES = frozenset({PENDING, RUNNING, FINISHED})
#: ``messages`` of a QUEUED workflow while admission is paused
_PAUSED_MESSAGES = _encode([{"message": PAUSED_MESSAGE, "type": "WARNING"}])
#: ``progress`` / ``percentComplete`` as text, 0..100
_PERCENT = tuple(str(percent) for percent in range(101))
#: a single-operation job after its output, up to its percentComplete
_JOB_TAIL = ',"priorJobs":[],"percentComplete":'
_SUMMARY_HEAD = ',"continueOnFailure":false}],"summary":'
_EMPTY_SUMMARY = _SUMMARY_HEAD + '{},"output":'


@functools.lru_cache(maxsize=256)
def _text(value: str) -> str:
    """A few distinct strings (types, operation labels) rendered on many workflows."""
    return _encode(value)


@functools.lru_cache(maxsize=64)
def _people(tenant: str, user: str) -> str:
    """The view's part of a document, between the workflow id and its status."""
    return f'"tenantName":{_encode(tenant)},"userName":{_encode(user)},"status":"'


@functools.lru_cache(maxsize=256)
def _empty_input(kind: str) -> str:
    """The job's name and an empty input, shared by all records of one type."""
    return f'","name":{kind},"input":{{}},"output":'


def _string(value: str) -> str:
    """*value* as a JSON string (what ``json`` writes: printable ASCII but " and \\ as is)."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return _encode(value)


#: a job object up to its status, from (workflow id & 0xFFFFFFFF, index, index + 1, workflow id)
_JOB_HEAD = '{"id":"' + JOB_UUID_FORMAT + '","taskId":%d,"workflowId":%d,"status":"'


def _job_head(workflow_id: int, index: int) -> str:
    """A job object up to its status."""
    return _JOB_HEAD % (workflow_id & 0xFFFFFFFF, index, index + 1, workflow_id)


def _prepare(record: WorkflowRecord) -> str:
    """Render once what never changes after *record*'s birth (see the module's docstring);
    returns its ``first_json``: empty for a multi-operation workflow, whose jobs are
    rendered each time."""
    if record.operations:
        record.first_json = ""
        return ""
    kind = _text(record.type)
    body = record.body_text
    number = str(record.id)
    # _job_head(record.id, 0), its UUID's first group as 8 hex digits (%08x) written faster
    uuid = (record.id & 0xFFFFFFFF).to_bytes(4, "big").hex()
    record.job_json = (
        f',"jobs":[{{"id":"{uuid}-0000-4000-8000-000000000000","taskId":1,'
        f'"workflowId":{number},"status":"'
    )
    record.name_json = f',"name":{_string(record.name)},"type":{kind},"progress":'
    record.input_json = (
        f'","name":{kind},"input":{body},"output":'
        if body.strip() and body != "{}"
        else _empty_input(kind)
    )
    record.tail_json = (
        f'{_SUMMARY_HEAD}{_encode(record.summary)},"output":' if record.summary else _EMPTY_SUMMARY
    )
    first = record.first_json = f'{{"id":{number},'
    return first


def _state(record: WorkflowRecord, now: float) -> tuple[str, int, str | None, str | None]:
    """(status, progress, startTime, endTime) at *now*, as the reference renders them."""
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
    """Any workflow in any state, through the reference's helpers (no trailing comma)."""
    now = view.now
    status, percent, start_iso, end_iso = _state(record, now)
    progress = _PERCENT[percent]  # written twice
    if status == FINISHED:
        output = job_output = _output(record, view.base_url)
    elif status == FAILED:
        output, job_output = "{}", _encode({"errors": [{"message": record.message}]})
    else:
        output = job_output = "{}"
    messages = "[]"
    if status not in _NO_MESSAGES:
        found = workflow_messages(record, status, view.paused)
        if found:
            messages = _encode(found)
    submitted = record.submit_iso
    started = "null" if start_iso is None else f'"{start_iso}"'
    ended = "null" if end_iso is None else f'"{end_iso}"'
    if record.operations:
        return (
            f'{{"id":{record.id},{people}{status}","submitTime":"{submitted}",'
            f'"startTime":{started},"endTime":{ended},'
            f'"name":{_string(record.name)},"type":{_text(record.type)},"progress":{progress},'
            f'"jobs":[{_operation_jobs(record, status, now)}],'
            f'"summary":{_encode(record.summary) if record.summary else "{}"},'
            f'"output":{output},"messages":{messages}}}'
        )
    first = record.first_json or _prepare(record)
    return (
        f'{first}{people}{status}","submitTime":"{submitted}","startTime":{started},'
        f'"endTime":{ended}{record.name_json}{progress}{record.job_json}{status}",'
        f'"submitTime":"{submitted}","createdAt":"{submitted}{record.input_json}{job_output}'
        f"{_JOB_TAIL}{progress}{record.tail_json}{output},"
        f'"messages":{messages}}}'
    )


def _output(record: WorkflowRecord, base_url: str) -> str:
    """``output`` of a FINISHED workflow as JSON."""
    found = result_output(record, base_url)
    return _encode(found) if found else "{}"


def _render(parts: list[str], records: Sequence[WorkflowRecord], view: View) -> None:
    """Append each record's document and a comma to *parts*.

    The loop reads the common states (single operation, not cancelled) straight off the
    timeline as ``_workflow`` would, and writes the same bytes (a test checks it); anything
    else goes through ``_workflow``.
    """
    now = view.now
    people = _people(view.tenant, view.user)
    queued_messages = _PAUSED_MESSAGES if view.paused else "[]"
    append = parts.append
    for record in records:
        first = record.first_json
        if first is None:
            first = _prepare(record)
        if first and record.cancel_at is None:
            admitted = record.admitted_at
            submitted = record.submit_iso
            if admitted is None:
                append(
                    f'{first}{people}QUEUED","submitTime":"{submitted}","startTime":null,'
                    f'"endTime":null{record.name_json}0{record.job_json}QUEUED",'
                    f'"submitTime":"{submitted}","createdAt":"{submitted}{record.input_json}{{}},'
                    f'"priorJobs":[],"percentComplete":0{record.tail_json}{{}},'
                    f'"messages":{queued_messages}}},'
                )
                continue
            start = admitted + record.pending_s
            if admitted <= now < start:
                append(
                    f'{first}{people}PENDING","submitTime":"{submitted}","startTime":null,'
                    f'"endTime":null{record.name_json}0{record.job_json}PENDING",'
                    f'"submitTime":"{submitted}","createdAt":"{submitted}{record.input_json}{{}},'
                    f'"priorJobs":[],"percentComplete":0{record.tail_json}{{}},"messages":[]}},'
                )
                continue
            running_s = record.running_s
            if start <= now < start + running_s:
                started = record.start_iso
                if started is None:
                    started = record.start_iso = iso(start)
                percent = int(
                    (record.fail_progress if record.fails else 100) * (now - start) / running_s
                )
                progress = _PERCENT[percent if percent < 99 else 99]
                append(
                    f'{first}{people}RUNNING","submitTime":"{submitted}","startTime":"{started}",'
                    f'"endTime":null{record.name_json}{progress}{record.job_json}RUNNING",'
                    f'"submitTime":"{submitted}","createdAt":"{submitted}{record.input_json}{{}},'
                    f'"priorJobs":[],"percentComplete":{progress}{record.tail_json}{{}},'
                    '"messages":[]},'
                )
                continue
            end = start + running_s
            if start <= end <= now and not record.fails:
                started = record.start_iso
                if started is None:
                    started = record.start_iso = iso(start)
                ended = record.end_iso
                if ended is None:
                    ended = record.end_iso = iso(end)
                output = _output(record, view.base_url)
                append(
                    f'{first}{people}FINISHED","submitTime":"{submitted}","startTime":"{started}",'
                    f'"endTime":"{ended}"{record.name_json}100{record.job_json}FINISHED",'
                    f'"submitTime":"{submitted}","createdAt":"{submitted}{record.input_json}'
                    f'{output},"priorJobs":[],"percentComplete":100{record.tail_json}{output},'
                    '"messages":[]},'
                )
                continue
        append(_workflow(record, view, people))
        append(",")


def workflow_json(record: WorkflowRecord, view: View) -> str:
    """The Workflow object of *record* at ``view.now`` as compact JSON."""
    parts: list[str] = []
    _render(parts, (record,), view)
    return "".join(parts)[:-1]


def workflow_list_json(total: int, records: Sequence[WorkflowRecord], view: View) -> bytes:
    """``{"totalMatchCount": total, "workflows": [...]}`` for one page."""
    parts = [f'{{"totalMatchCount":{total},"workflows":[']
    _render(parts, records, view)
    if records:
        parts[-1] = parts[-1][:-1]  # the last comma
    parts.append("]}")
    return "".join(parts).encode()
