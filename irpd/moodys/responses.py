"""Parsing Moody's responses: Location headers, workflow objects, search bodies, error bodies.

Pure functions. Malformed input raises :class:`ValueError` with a short reason; the transport
turns that into a typed error carrying the HTTP status and a sanitised excerpt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote, urlsplit

import msgspec

from irpd.moodys.errors import ErrorDetails
from irpd.moodys.models import WorkflowStatus

EXCERPT_LIMIT: Final = 200
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]")


def id_from_location(location: str | None) -> str:
    """The id in a ``Location`` header: its last path segment (absolute or relative URL)."""
    if location is None or not location.strip():
        raise ValueError("missing Location header")
    path = urlsplit(location.strip()).path
    segment = unquote(path.rstrip("/").rsplit("/", 1)[-1]).strip()
    if not segment:
        raise ValueError(f"no id in Location {excerpt(location.encode())!r}")
    return segment


def excerpt(body: bytes, limit: int = EXCERPT_LIMIT) -> str:
    """A short, single-line, printable rendering of a body (HTML tags stripped)."""
    text = body[: limit * 8].decode("utf-8", errors="replace").replace("\ufffd", "?")
    text = _TAG.sub(" ", text)
    text = _UNPRINTABLE.sub("?", _SPACE.sub(" ", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_json(body: bytes) -> Any:
    """The JSON value of a body; ``ValueError`` naming the problem when it is not JSON."""
    if not body.strip():
        raise ValueError("empty body")
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise ValueError("body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at char {exc.pos})") from None


class WorkflowFields(msgspec.Struct, gc=False):
    """The members of an RM Workflow object a status read uses, decoded from JSON text
    without building the rest (``jobs`` with their inputs make up most of the bytes).

    A member of another type than these fails the page's lean decoding, and the page is
    decoded into dicts instead: :func:`parse_workflow` judges both the same way.

    ``gc=False``: decoded JSON holds no reference cycle, and 1,000 tracked objects per page
    made the garbage collector's young passes cost ~0.5 µs per workflow.
    """

    id: int | str
    status: str
    progress: Any = None
    name: Any = None
    type: Any = None
    submitTime: datetime | None = None  # Moody's member names
    startTime: datetime | None = None
    endTime: datetime | None = None
    messages: Any = None


class WorkflowPage(msgspec.Struct, gc=False):
    """``{totalMatchCount, workflows}`` with lean workflow objects."""

    totalMatchCount: Any = None
    workflows: list[WorkflowFields] | None = None


_WORKFLOW_PAGE: Final = msgspec.json.Decoder(WorkflowPage)


def decode_workflow_page(body: bytes) -> Any:
    """A workflow list body for status reads: a :class:`WorkflowPage` (about five times
    faster than :func:`decode_json` on Moody's pages), or, when the body has another shape,
    whatever :func:`decode_json` makes of it, so the usual checks report it."""
    try:
        return _WORKFLOW_PAGE.decode(body)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return decode_json(body)


def error_details(body: bytes) -> ErrorDetails:
    """Moody's ``{code, message, logId}`` from an error body, else a sanitised excerpt."""
    try:
        value = decode_json(body)
    except ValueError:
        return ErrorDetails(excerpt=excerpt(body) or None)
    if isinstance(value, Mapping):
        code, message, log_id = (_opt_str(value.get(k)) for k in ("code", "message", "logId"))
        if code or message:
            return ErrorDetails(code=code, message=message, log_id=log_id)
    return ErrorDetails(excerpt=excerpt(body) or None)


def parse_timestamp(value: object) -> datetime | None:
    """ISO-8601 (``Z`` allowed) or epoch milliseconds → aware UTC datetime; else ``None``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000.0, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_workflow(obj: object, *, keep_raw: bool = False) -> WorkflowStatus:
    """An RM Workflow object (spec §2.3), as a dict or as :class:`WorkflowFields` (which
    keeps no raw object) → :class:`WorkflowStatus`."""
    if isinstance(obj, WorkflowFields):
        return _lean_workflow_status(obj)
    if not isinstance(obj, Mapping):
        raise ValueError("workflow is not a JSON object")
    return _workflow_status(obj.get, dict(obj) if keep_raw else None)


def _lean_workflow_status(obj: WorkflowFields) -> WorkflowStatus:
    """:func:`_workflow_status` for members msgspec already typed (the hot path of polls:
    100,000 per sweep, so the common types, an int id and progress, string name and type,
    aware times, are taken as they are without a call each)."""
    raw_id, progress, name, kind = obj.id, obj.progress, obj.name, obj.type
    workflow_id = str(raw_id) if type(raw_id) is int else str(raw_id).strip()
    status = obj.status.strip()
    if not workflow_id:
        raise ValueError("object has no usable 'id'")
    if not status:
        raise ValueError("object has no status")
    submitted, started, ended = obj.submitTime, obj.startTime, obj.endTime
    return WorkflowStatus(
        workflow_id,
        status,
        progress if type(progress) is int else _opt_int(progress),
        name if name is None or type(name) is str else _opt_str(name),
        kind if kind is None or type(kind) is str else _opt_str(kind),
        submitted if submitted is None or submitted.tzinfo else _utc(submitted),
        started if started is None or started.tzinfo else _utc(started),
        ended if ended is None or ended.tzinfo else _utc(ended),
        _workflow_messages(obj.messages) if obj.messages else (),
    )


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _workflow_status(get: Callable[[str], Any], raw: dict[str, Any] | None) -> WorkflowStatus:
    workflow_id, status = _required_id(get, "id"), _required_status(get)
    return WorkflowStatus(
        workflow_id=workflow_id,
        status=status,
        progress=_opt_int(get("progress")),
        name=_opt_str(get("name")),
        type=_opt_str(get("type")),
        submit_time=parse_timestamp(get("submitTime")),
        start_time=parse_timestamp(get("startTime")),
        end_time=parse_timestamp(get("endTime")),
        messages=_workflow_messages(get("messages")),
        raw=raw,
    )


def parse_platform_job(obj: object, *, keep_raw: bool = False) -> WorkflowStatus:
    """A Platform job object (spec §4, Platform) → :class:`WorkflowStatus`."""
    if not isinstance(obj, Mapping):
        raise ValueError("job is not a JSON object")
    return WorkflowStatus(
        workflow_id=_required_id(obj.get, "jobId"),
        status=_required_status(obj.get),
        progress=_opt_int(obj.get("progress")),
        name=_opt_str(obj.get("name")),
        type=_opt_str(obj.get("type")),
        submit_time=parse_timestamp(obj.get("submittedAt") or obj.get("createdAt")),
        start_time=parse_timestamp(obj.get("startedAt")),
        end_time=parse_timestamp(obj.get("endedAt")),
        messages=_task_errors(obj.get("tasks")),
        raw=dict(obj) if keep_raw else None,
    )


def parse_workflow_page(value: object) -> tuple[int, list[object]]:
    """``{totalMatchCount, workflows}`` (a dict or a :class:`WorkflowPage`) → (total, items)."""
    if isinstance(value, WorkflowPage):
        lean: list[object] = list(value.workflows or ())
        count = _opt_int(value.totalMatchCount)
        return (count if count is not None else len(lean)), lean
    if not isinstance(value, Mapping):
        raise ValueError("workflow list is not a JSON object")
    items = value.get("workflows")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ValueError("'workflows' is not a list")
    total = _opt_int(value.get("totalMatchCount"))
    return (total if total is not None else len(items)), items


def parse_search_items(value: object) -> list[Mapping[str, Any]]:
    """Items of a search body: ``{searchItems}``, ``{items}``, ``{workflows}`` or a bare array."""
    items: object = value
    if isinstance(value, Mapping):
        for key in ("searchItems", "items", "workflows"):
            if key in value:
                items = value[key]
                break
        else:
            raise ValueError("search body has no item list")
    if items is None:
        return []
    if not isinstance(items, list):
        raise ValueError("search items are not a list")
    return [item for item in items if isinstance(item, Mapping)]


def _required_id(get: Callable[[str], Any], key: str) -> str:
    value = get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise ValueError(f"object has no usable {key!r}")
    return str(value).strip()


def _required_status(get: Callable[[str], Any]) -> str:
    value = get("status")
    if not isinstance(value, str) or not value.strip():
        raise ValueError("object has no status")
    return value.strip()


def _opt_str(value: object) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _opt_int(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | str):
        try:
            return int(float(value))
        except (ValueError, OverflowError):
            return None
    return None


def _workflow_messages(value: object) -> tuple[str, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        return ()
    found: list[str] = []
    for item in value:
        text = item.get("message") if isinstance(item, Mapping) else item
        if isinstance(text, str) and text:
            found.append(text)
    return tuple(found)


def _task_errors(tasks: object) -> tuple[str, ...]:
    if not isinstance(tasks, list):
        return ()
    found: list[str] = []
    for task in tasks:
        output = task.get("output") if isinstance(task, Mapping) else None
        errors = output.get("errors") if isinstance(output, Mapping) else None
        found.extend(_workflow_messages(errors))
    return tuple(found)
