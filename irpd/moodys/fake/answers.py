"""Helpers routes use to answer, and the per-request notes middlewares read back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from irpd.moodys.fake.context import context_of
from irpd.moodys.fake.faults import FaultDecision
from irpd.moodys.fake.rawjson import encode
from irpd.moodys.fake.timeline import WorkflowRecord


@dataclass(frozen=True, slots=True)
class Submission:
    """What an accepted submission created (for the ledger)."""

    name: str | None
    type: str | None
    workflow_id: str | None
    location: str | None


SUBMISSION = web.RequestKey("fake_submission", Submission)
FAULT = web.RequestKey("fake_fault", FaultDecision)
DROP = web.RequestKey("fake_drop", bool)


def json_response(data: Any, status: int = 200) -> web.Response:
    """A compact JSON response (:class:`RawJson` values spliced in verbatim)."""
    return web.Response(status=status, body=encode(data), content_type="application/json")


def workflow_location(request: web.Request, record: WorkflowRecord) -> str:
    """Absolute URL of a workflow (RM) or job (Platform)."""
    base = context_of(request).base_url(request)
    if record.api is None:
        return f"{base}/riskmodeler/v1/workflows/{record.id}"
    return f"{base}/platform/{record.api}/v1/jobs/{record.id}"


def accepted(request: web.Request, record: WorkflowRecord, status: int = 202) -> web.Response:
    """``202`` (or ``201``) with ``Location`` and no body, noted for the ledger."""
    location = workflow_location(request, record)
    request[SUBMISSION] = Submission(record.name, record.type, str(record.id), location)
    return web.Response(status=status, headers={"Location": location})


def created(
    request: web.Request,
    path: str,
    *,
    name: str | None,
    kind: str,
    body: Any = None,
) -> web.Response:
    """``201`` + ``Location`` for a synchronous create (no workflow)."""
    location = context_of(request).base_url(request) + path
    request[SUBMISSION] = Submission(name, kind, None, location)
    if body is None:
        return web.Response(status=201, headers={"Location": location})
    response = json_response(body, status=201)
    response.headers["Location"] = location
    return response
