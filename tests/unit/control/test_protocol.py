"""The control protocol v1 (pure): every command's argument validation, malformed, oversized,
deeply nested and unknown requests, and the response lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from irpd.control import protocol
from irpd.control.protocol import COMMANDS, MAX_ID, Arg, ProtocolError, parse_request

#: a valid value for each argument type
VALID: dict[str, Any] = {
    "id": 7,
    "int": 3,
    "str": "2026Q4",
    "bool": True,
    "object": {"threshold": 10},
    "bytes_b64": "UEsDBA==",
}

#: values each argument type must refuse (``None`` means "absent", tested separately)
INVALID: dict[str, list[Any]] = {
    "id": ["7", 7.0, True, 0, -1, MAX_ID + 1, [7], {"id": 7}],
    "int": ["3", 3.5, False, [3]],
    "str": [1, 1.5, True, ["x"], {"x": 1}],
    "bool": ["true", "yes", 1, 0, [True]],
    "object": [[], "x", 1, True],
    "bytes_b64": [1, True, [], {}],
}


def line(obj: Any) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def request(command: str, args: dict[str, Any] | None = None, **extra: Any) -> bytes:
    return line({"v": 1, "id": 1, "command": command, "args": args or {}, **extra})


def minimal_args(command: str) -> dict[str, Any]:
    return {a.name: VALID[a.type] for a in COMMANDS[command].args if a.required}


def full_args(command: str) -> dict[str, Any]:
    return {a.name: VALID[a.type] for a in COMMANDS[command].args}


def refused(data: bytes) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        parse_request(data)
    return caught.value


def _args(required: bool | None = None) -> list[Any]:
    return [
        pytest.param(name, arg, id=f"{name}:{arg.name}")
        for name, command in sorted(COMMANDS.items())
        for arg in command.args
        if required is None or arg.required == required
    ]


ARGS, REQUIRED, OPTIONAL = _args(), _args(required=True), _args(required=False)


# --- every command -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_accepts_its_minimal_and_full_arguments(name: str) -> None:
    for args in (minimal_args(name), full_args(name)):
        parsed = parse_request(request(name, args))
        assert parsed.command == name
        assert parsed.args == args
        assert parsed.id == 1


@pytest.mark.parametrize(("name", "arg"), REQUIRED)
def test_a_missing_required_argument_is_named(name: str, arg: Arg) -> None:
    args = minimal_args(name)
    del args[arg.name]
    error = refused(request(name, args))
    assert str(error) == f"{name}: missing argument {arg.name!r}"
    assert error.request_id == 1


@pytest.mark.parametrize(("name", "arg"), REQUIRED)
def test_a_null_required_argument_counts_as_missing(name: str, arg: Arg) -> None:
    args = {**minimal_args(name), arg.name: None}
    assert "missing argument" in str(refused(request(name, args)))


@pytest.mark.parametrize(("name", "arg"), OPTIONAL)
def test_a_null_optional_argument_is_left_out(name: str, arg: Arg) -> None:
    args = {**minimal_args(name), arg.name: None}
    assert arg.name not in parse_request(request(name, args)).args


@pytest.mark.parametrize(("name", "arg"), ARGS)
def test_every_argument_refuses_the_wrong_type(name: str, arg: Arg) -> None:
    for bad in INVALID[arg.type]:
        args = {**minimal_args(name), arg.name: bad}
        message = str(refused(request(name, args)))
        assert message.startswith(f"{name}: argument {arg.name!r} must be"), (bad, message)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_an_unknown_argument_is_named(name: str) -> None:
    args = {**minimal_args(name), "bogus": 1}
    assert str(refused(request(name, args))) == f"{name}: unknown argument 'bogus'"


def test_ids_accept_the_whole_positive_bigint_range() -> None:
    for value in (1, MAX_ID):
        assert parse_request(request("job.show", {"job_id": value})).args == {"job_id": value}


def test_the_command_table_is_consistent() -> None:
    for name, command in COMMANDS.items():
        assert command.name == name
        assert command.help
        names = [a.name for a in command.args]
        assert len(names) == len(set(names)), name
        assert all(a.type in VALID for a in command.args)


# --- malformed, unknown, oversized and deep requests -------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not json\n", "malformed request"),
        (b"\n", "malformed request"),
        (b'{"v": 1, "id": 1, "command": "ping"\n', "malformed request"),
        (b"\xff\xfe{}\n", "malformed request"),
        (b'{"v": 1, "id": 1, "command": "ping", "args": {"x": NaN}}\n', "invalid JSON number"),
        (b'{"v": 1, "id": 1, "command": "ping", "args": {"x": Infinity}}\n', "invalid JSON"),
        (b"[1, 2]\n", "must be a JSON object"),
        (b'"ping"\n', "must be a JSON object"),
        (b"null\n", "must be a JSON object"),
        (line({"id": 1, "command": "ping"}), "unsupported protocol version None"),
        (line({"v": 2, "id": 1, "command": "ping"}), "unsupported protocol version 2"),
        (line({"v": "1", "id": 1, "command": "ping"}), "unsupported protocol version '1'"),
        (line({"v": 1, "id": 1.5, "command": "ping"}), "'id' must be a string or an integer"),
        (line({"v": 1, "id": [1], "command": "ping"}), "'id' must be a string or an integer"),
        (line({"v": 1, "id": 1}), "unknown command 'NoneType'"),
        (line({"v": 1, "id": 1, "command": 5}), "unknown command 'int'"),
        (line({"v": 1, "id": 1, "command": "job.explode"}), "unknown command 'job.explode'"),
        (line({"v": 1, "id": 1, "command": "x" * 65}), "unknown command 'str'"),
        (line({"v": 1, "id": 1, "command": "ping", "extra": 1}), "unknown request field 'extra'"),
        (line({"v": 1, "id": 1, "command": "ping", "args": []}), "'args' must be a JSON object"),
        (line({"v": 1, "id": 1, "command": "ping", "args": "x"}), "'args' must be a JSON object"),
    ],
)
def test_malformed_and_unknown_requests_are_refused(data: bytes, message: str) -> None:
    assert message in str(refused(data))


def test_a_refusal_echoes_the_request_id_when_it_was_readable() -> None:
    assert refused(line({"v": 1, "id": "abc", "command": "nope"})).request_id == "abc"
    assert refused(line({"v": 9, "id": 42, "command": "ping"})).request_id == 42
    assert refused(b"garbage\n").request_id is None


def test_an_unknown_command_name_is_not_echoed_at_any_length() -> None:
    assert "x" * 65 not in str(refused(line({"v": 1, "id": 1, "command": "x" * 10_000})))


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_deep_nesting_is_a_protocol_error_not_a_crash(depth: int) -> None:
    nested = b"[" * depth + b"]" * depth
    data = b'{"v": 1, "id": 1, "command": "job.resubmit", "args": {"override": ' + nested + b"}}"
    assert "nested too deeply" in str(refused(data + b"\n"))


def test_moderate_nesting_reaches_argument_validation() -> None:
    nested = b"[" * 50 + b"]" * 50
    data = b'{"v": 1, "id": 1, "command": "job.resubmit", "args": {"job_id": 1, "override": '
    assert "'override' must be a JSON object" in str(refused(data + nested + b"}}\n"))


def test_deep_objects_in_an_object_argument_are_refused_when_too_deep() -> None:
    nested = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    data = b'{"v": 1, "id": 1, "command": "job.resubmit", "args": {"job_id": 1, "override": '
    assert "nested too deeply" in str(refused(data + nested + b"}}\n"))


def test_a_large_but_valid_request_parses() -> None:
    content = "A" * 2_000_000
    args = {"cycle": "c", "filename": "f.xlsx", "content_b64": content}
    assert parse_request(request("config.load", args)).args["content_b64"] == content


def test_a_huge_integer_is_malformed_not_slow() -> None:
    data = b'{"v": 1, "id": 1, "command": "job.show", "args": {"job_id": ' + b"9" * 5000 + b"}}"
    assert "malformed request" in str(refused(data + b"\n"))


# --- responses -----------------------------------------------------------------------------------


def test_ok_and_error_lines_are_single_json_lines() -> None:
    ok = protocol.ok(3, {"text": "two\nlines", "n": 1})
    assert ok.endswith(b"\n")
    assert ok.count(b"\n") == 1
    assert json.loads(ok) == {"v": 1, "id": 3, "ok": True, "result": {"text": "two\nlines", "n": 1}}
    err = protocol.error("a", "JobError", "Job 9 not found.")
    assert json.loads(err) == {
        "v": 1,
        "id": "a",
        "ok": False,
        "error": {"type": "JobError", "message": "Job 9 not found."},
    }
    detailed = json.loads(protocol.error(None, "ConfigurationError", "bad", {"problems": [1]}))
    assert detailed["error"]["details"] == {"problems": [1]}


def test_results_that_are_not_json_are_rendered_as_text() -> None:
    moment = datetime(2026, 1, 2, tzinfo=UTC)
    decoded = json.loads(protocol.ok(1, {"at": moment, "amount": Decimal("1.5")}))
    assert decoded["result"] == {"at": str(moment), "amount": "1.5"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_request_line_round_trips(name: str) -> None:
    args = full_args(name)
    parsed = parse_request(protocol.request_line(name, args, "req-1"))
    assert (parsed.id, parsed.command, parsed.args) == ("req-1", name, args)
