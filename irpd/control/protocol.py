"""The control protocol: newline-delimited JSON requests and responses, version 1 (pure).

Request:  ``{"v": 1, "id": 7, "command": "batch.show", "args": {"batch_id": 3}}``
Response: ``{"v": 1, "id": 7, "ok": true, "result": {...}}`` or
          ``{"v": 1, "id": 7, "ok": false, "error": {"type": "BatchError", "message": "..."}}``

Every request is validated against :data:`COMMANDS` before anything runs; a request that is
not valid gets a ``ProtocolError`` and changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

VERSION = 1
MAX_ID = 2**63 - 1

ArgType = Literal["id", "str", "bool", "object", "int", "bytes_b64"]


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument of a command."""

    name: str
    type: ArgType
    required: bool = True


@dataclass(frozen=True, slots=True)
class Command:
    """A command the daemon accepts."""

    name: str
    args: tuple[Arg, ...] = ()
    help: str = ""


def _c(name: str, help_: str, *args: Arg) -> Command:
    return Command(name, args, help_)


#: the arguments of every paged listing: rows per page and the previous page's cursor
PAGE_ARGS = (Arg("limit", "int", required=False), Arg("after", "str", required=False))


COMMANDS: Mapping[str, Command] = {
    c.name: c
    for c in (
        _c("status", "daemon health"),
        _c("ping", "liveness check"),
        _c("types", "registered batch types"),
        _c("cycle.create", "create the active cycle", Arg("name", "str")),
        _c("cycle.archive", "archive a cycle", Arg("name", "str")),
        _c("cycle.list", "list cycles (paged)", Arg("status", "str", required=False), *PAGE_ARGS),
        _c(
            "cycle.run",
            "run a cycle plan (default plan when plan_toml is absent)",
            Arg("cycle", "str"),
            Arg("plan_toml", "str", required=False),
            Arg("until", "str", required=False),
            Arg("by", "str", required=False),
        ),
        _c("cycle.status", "a cycle's plan, step by step", Arg("cycle", "str")),
        _c("cycle.pause", "stop starting plan steps", Arg("cycle", "str")),
        _c("cycle.resume", "advance a paused plan again", Arg("cycle", "str")),
        _c(
            "cycle.approve",
            "approve a plan step",
            Arg("cycle", "str"),
            Arg("step", "str"),
            Arg("by", "str"),
        ),
        _c(
            "config.load",
            "validate or register a workbook",
            Arg("cycle", "str"),
            Arg("filename", "str"),
            Arg("content_b64", "bytes_b64"),
            Arg("dry_run", "bool", required=False),
        ),
        _c("config.show", "show a configuration", Arg("configuration_id", "id")),
        _c(
            "config.list",
            "list configurations (paged)",
            Arg("cycle", "str", required=False),
            *PAGE_ARGS,
        ),
        _c(
            "batch.create",
            "create a batch",
            Arg("batch_type", "str"),
            Arg("configuration_id", "id"),
            Arg("step_id", "id", required=False),
            Arg("allow_duplicate", "str", required=False),
        ),
        _c(
            "batch.cancel",
            "cancel every unfinished job of a batch",
            Arg("batch_id", "id"),
            Arg("reason", "str"),
            Arg("by", "str", required=False),
        ),
        _c(
            "batch.delete",
            "delete a batch never submitted",
            Arg("batch_id", "id"),
            Arg("reason", "str"),
            Arg("by", "str", required=False),
        ),
        _c(
            "batch.submit",
            "pre-flight, then queue a batch's jobs for submission",
            Arg("batch_id", "id"),
            Arg("dry_run", "bool", required=False),
        ),
        _c("batch.recon", "reconcile a batch", Arg("batch_id", "id")),
        _c("batch.show", "show a batch with its report", Arg("batch_id", "id")),
        _c("batch.list", "list batches (paged)", Arg("status", "str", required=False), *PAGE_ARGS),
        _c(
            "batch.jobs",
            "jobs of a batch (paged)",
            Arg("batch_id", "id"),
            Arg("status", "str", required=False),
            Arg("skipped", "bool", required=False),
            *PAGE_ARGS,
        ),
        _c(
            "batch.configs",
            "job configurations of a batch (paged)",
            Arg("batch_id", "id"),
            Arg("skipped", "bool", required=False),
            *PAGE_ARGS,
        ),
        _c(
            "report.batches",
            "batch reports (paged)",
            Arg("status", "str", required=False),
            Arg("next_action", "str", required=False),
            Arg("cycle_id", "id", required=False),
            *PAGE_ARGS,
        ),
        _c(
            "report.jobs",
            "job reports of a batch (paged)",
            Arg("batch_id", "id"),
            Arg("next_action", "str", required=False),
            Arg("status", "str", required=False),
            *PAGE_ARGS,
        ),
        _c("job.show", "a job with configuration, history and chain", Arg("job_id", "id")),
        _c("job.tracking", "a job's tracking history (paged)", Arg("job_id", "id"), *PAGE_ARGS),
        _c("job.submit", "queue one job", Arg("job_id", "id"), Arg("force", "bool", False)),
        _c("job.track", "poll a job now", Arg("job_id", "id")),
        _c(
            "job.resubmit",
            "resubmit a job (queued unless hold), optionally with an override",
            Arg("job_id", "id"),
            Arg("override", "object", required=False),
            Arg("reason", "str", required=False),
            Arg("replace", "bool", required=False),
            Arg("hold", "bool", required=False),
        ),
        _c(
            "batch.resubmit_failed",
            "resubmit every FAILED/ERROR job of a batch (queued unless hold)",
            Arg("batch_id", "id"),
            Arg("override", "object", required=False),
            Arg("reason", "str", required=False),
            Arg("hold", "bool", required=False),
        ),
        _c("job.skip", "skip a job", Arg("job_id", "id"), Arg("reason", "str")),
        _c("job.cancel", "cancel a job", Arg("job_id", "id")),
        _c("job.force_ok", "declare a job done", Arg("job_id", "id"), Arg("reason", "str")),
        _c(
            "notifications.list",
            "the notification outbox: counts and newest messages",
            Arg("status", "str", required=False),
            Arg("limit", "int", required=False),
        ),
        _c("notifications.resend", "send a message again", Arg("message_id", "id")),
    )
}


class ProtocolError(Exception):
    """A request that is not valid protocol; nothing was run.

    ``request_id`` is the request's ``id`` when it could be read, so the error echoes it.
    """

    kind = "ProtocolError"

    def __init__(self, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True, slots=True)
class Request:
    """A validated request."""

    id: Any
    command: str
    args: dict[str, Any]


def _reject_constant(name: str) -> Any:
    raise ProtocolError(f"invalid JSON number {name}")


def _check_arg(command: str, arg: Arg, value: Any) -> Any:
    where = f"{command}: argument {arg.name!r}"
    if arg.type in ("id", "int"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(f"{where} must be an integer, got {type(value).__name__}")
        if arg.type == "id" and not 0 < value <= MAX_ID:
            raise ProtocolError(f"{where} must be a positive integer up to {MAX_ID}, got {value}")
        return value
    if arg.type == "bool":
        if not isinstance(value, bool):
            raise ProtocolError(f"{where} must be true or false, got {type(value).__name__}")
        return value
    if arg.type in ("str", "bytes_b64"):
        if not isinstance(value, str):
            raise ProtocolError(f"{where} must be a string, got {type(value).__name__}")
        return value
    if not isinstance(value, dict):
        raise ProtocolError(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def parse_request(line: bytes) -> Request:
    """Decode and validate one request line; raise :class:`ProtocolError` when it is not valid."""
    try:
        data = json.loads(line.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"malformed request: {exc}") from None
    except RecursionError:
        raise ProtocolError("malformed request: nested too deeply") from None
    if not isinstance(data, dict):
        raise ProtocolError("a request must be a JSON object")
    request_id = data.get("id")
    if request_id is not None and not isinstance(request_id, (int, str)):
        raise ProtocolError("'id' must be a string or an integer")
    try:
        return _validated(data, request_id)
    except ProtocolError as exc:
        raise ProtocolError(str(exc), request_id) from None


def _validated(data: dict[str, Any], request_id: Any) -> Request:
    if data.get("v") != VERSION:
        raise ProtocolError(f"unsupported protocol version {data.get('v')!r}; this daemon speaks 1")
    unknown_keys = sorted(set(data) - {"v", "id", "command", "args"})
    if unknown_keys:
        raise ProtocolError(f"unknown request field {unknown_keys[0]!r}")
    name = data.get("command")
    if not isinstance(name, str) or name not in COMMANDS:
        shown = name if isinstance(name, str) and len(name) <= 64 else type(name).__name__
        raise ProtocolError(f"unknown command {shown!r}")
    return Request(request_id, name, _checked_args(COMMANDS[name], data.get("args", {})))


def check_args(command: Command, raw_args: Any) -> dict[str, Any]:
    """``raw_args`` validated against ``command`` (the HTTP API validates with this too);
    raises :class:`ProtocolError`."""
    return _checked_args(command, raw_args)


def _checked_args(command: Command, raw_args: Any) -> dict[str, Any]:
    name = command.name
    if not isinstance(raw_args, dict):
        raise ProtocolError("'args' must be a JSON object")
    known = {a.name: a for a in command.args}
    extra = sorted(set(raw_args) - set(known))
    if extra:
        raise ProtocolError(f"{name}: unknown argument {extra[0]!r}")
    args: dict[str, Any] = {}
    for arg in command.args:
        if arg.name not in raw_args or raw_args[arg.name] is None:
            if arg.required:
                raise ProtocolError(f"{name}: missing argument {arg.name!r}")
            continue
        args[arg.name] = _check_arg(name, arg, raw_args[arg.name])
    return args


def ok(request_id: Any, result: Any) -> bytes:
    """An encoded success response line."""
    return _line({"v": VERSION, "id": request_id, "ok": True, "result": result})


#: list elements encoded between two yields to the event loop (see :func:`ok_chunks`)
CHUNK_ROWS = 200


def ok_chunks(request_id: Any, result: Any, rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """The bytes of :func:`ok`, lazily, in pieces of at most ``rows`` list elements.

    A server writes (and yields to its event loop) between pieces, so that encoding a page of
    thousands of rows never holds the loop for long. The concatenation equals ``ok(...)``.
    """
    if not isinstance(result, dict) or not any(
        isinstance(v, list) and len(v) > rows for v in result.values()
    ):
        yield ok(request_id, result)
        return
    head = _dumps({"v": VERSION, "id": request_id, "ok": True})
    yield (head[:-1] + ',"result":{').encode("utf-8")
    for index, (key, value) in enumerate(result.items()):
        label = ("," if index else "") + _dumps(key) + ":"
        if not isinstance(value, list):
            yield (label + _dumps(value)).encode("utf-8")
            continue
        yield (label + "[").encode("utf-8")
        for start in range(0, len(value), rows):
            # one encoder call per piece: the list's text without its brackets
            piece = _dumps(value[start : start + rows])[1:-1]
            yield (("," if start else "") + piece).encode("utf-8")
        yield b"]"
    yield b"}}\n"


def error(request_id: Any, kind: str, message: str, details: Any = None) -> bytes:
    """An encoded error response line."""
    body: dict[str, Any] = {"type": kind, "message": message}
    if details is not None:
        body["details"] = details
    return _line({"v": VERSION, "id": request_id, "ok": False, "error": body})


def request_line(command: str, args: Mapping[str, Any], request_id: Any = 1) -> bytes:
    """An encoded request line (used by the client)."""
    return _line({"v": VERSION, "id": request_id, "command": command, "args": dict(args)})


#: one encoder for every answer (``json.dumps`` with options builds a new one per call)
_ENCODER = json.JSONEncoder(default=str, separators=(",", ":"))


def _dumps(obj: Any) -> str:
    return _ENCODER.encode(obj)


def _line(obj: Mapping[str, Any]) -> bytes:
    return _dumps(obj).encode("utf-8") + b"\n"
