"""Hostile control requests (hypothesis strategies) and a raw socket to send them on.

Every request drawn here is one the daemon must refuse with a clear error and without writing
anything: bytes that are not JSON, JSON of random shapes, deep nesting, huge numbers, envelope
mistakes, unknown commands, wrong argument types, out-of-range ids — or well-formed commands
on ids that do not exist.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from irpd.control.protocol import COMMANDS, MAX_ID, Arg

#: commands that only read (an answer with ``ok: true`` is fine for them)
READ_ONLY = frozenset(
    {"status", "ping", "types", "cycle.list", "config.show", "config.list", "batch.show",
     "batch.list", "batch.jobs", "batch.configs", "job.show"}
)
#: ids no test database reaches
ABSENT_IDS = st.integers(min_value=10**9, max_value=MAX_ID)


@dataclass(frozen=True, slots=True)
class Hostile:
    """One request line and what kind of refusal it must get."""

    kind: str
    line: bytes
    command: str | None = None

    @property
    def must_be_protocol_error(self) -> bool:
        """Whether the request must be refused before any handler runs."""
        return self.kind != "absent_ids"


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode() + b"\n"


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=25,
)


def _wrong_value(arg: Arg) -> st.SearchStrategy[Any]:
    """A value of the wrong type (or out of range) for ``arg``."""
    not_int = st.text(max_size=10) | st.floats(allow_nan=False) | st.lists(st.integers(),
                                                                           max_size=2)
    if arg.type == "id":
        return (not_int | st.booleans() | st.integers(max_value=0)
                | st.integers(min_value=MAX_ID + 1, max_value=2**128))
    if arg.type == "int":
        return not_int | st.booleans()
    if arg.type == "bool":
        return st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=1)
    if arg.type in ("str", "bytes_b64"):
        return st.integers() | st.booleans() | st.lists(st.text(max_size=3), max_size=2)
    return st.integers() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)


@st.composite
def wrong_types(draw: st.DrawFn) -> Hostile:
    """A known command with one argument of the wrong type."""
    candidates = sorted(name for name, c in COMMANDS.items() if c.args)
    name = draw(st.sampled_from(candidates))
    command = COMMANDS[name]
    args = {a.name: _valid_value(a, draw) for a in command.args if a.required}
    broken = draw(st.sampled_from(command.args))
    args[broken.name] = draw(_wrong_value(broken))
    return Hostile("wrong_types", _encode({"v": 1, "id": 1, "command": name, "args": args}), name)


def _valid_value(arg: Arg, draw: st.DrawFn) -> Any:
    if arg.type in ("id", "int"):
        return draw(ABSENT_IDS)
    if arg.type == "bool":
        return draw(st.booleans())
    if arg.type == "object":
        return {"note": draw(st.text(max_size=5))}
    if arg.type == "bytes_b64":
        return base64.b64encode(draw(st.binary(max_size=64))).decode()
    return draw(st.text(min_size=1, max_size=20))


@st.composite
def absent_ids(draw: st.DrawFn) -> Hostile:
    """A well-formed command naming entities that do not exist."""
    candidates = sorted(n for n, c in COMMANDS.items() if any(a.type == "id" for a in c.args))
    name = draw(st.sampled_from(candidates))
    args = {a.name: _valid_value(a, draw) for a in COMMANDS[name].args
            if a.required or draw(st.booleans())}
    return Hostile("absent_ids", _encode({"v": 1, "id": "x", "command": name, "args": args}),
                   name)


def _deep(depth: int, opener: str) -> bytes:
    closer = {"[": "]", "{\"a\":": "}"}[opener]
    return (opener * depth + "1" + closer * depth).encode() + b"\n"


def hostile_requests() -> st.SearchStrategy[Hostile]:
    """Every kind of hostile request line."""
    random_bytes = st.binary(min_size=1, max_size=2000).map(
        lambda b: Hostile("random_bytes", b.replace(b"\n", b"\r") + b"\n")
    )
    random_json = JSON_VALUES.filter(lambda v: not isinstance(v, dict) or "command" not in v).map(
        lambda v: Hostile("random_json", _encode(v))
    )
    deep = st.builds(
        lambda depth, opener: Hostile("deep_nesting", _deep(depth, opener)),
        st.integers(min_value=500, max_value=20_000),
        st.sampled_from(["[", "{\"a\":"]),
    )
    digits = st.integers(min_value=20, max_value=6000).map(lambda n: "9" * n)
    huge_numbers = st.builds(
        lambda request_id, job_id: Hostile(
            "huge_numbers",
            f'{{"v":1,"id":{request_id},"command":"job.cancel","args":{{"job_id":{job_id}}}}}\n'
            .encode(),
        ),
        digits | st.just("1"),
        digits | digits.map(lambda d: "-" + d) | st.just(str(MAX_ID + 1)),
    )
    envelope = st.sampled_from(
        [
            b'{"command":"ping"}\n',
            b'{"v":2,"command":"ping"}\n',
            b'{"v":"1","command":"ping"}\n',
            b'{"v":1,"command":"ping","extra":1}\n',
            b'{"v":1,"command":"ping","id":[1]}\n',
            b'{"v":1,"command":"ping","id":1.5}\n',
            b'{"v":1,"command":"ping","args":[]}\n',
            b'{"v":1,"command":"job.show","args":{"job_id":1,"x":2}}\n',
            b'{"v":1,"command":"job.show","args":{}}\n',
            b'{"v":1,"command":"job.show","args":{"job_id":NaN}}\n',
            b'{"v":1,"command":"job.show","args":{"job_id":Infinity}}\n',
            b'{"v":1,"command":null}\n',
            b"\xff\xfe{}\n",
            b"\n",
        ]
    ).map(lambda line: Hostile("envelope", line))
    unknown = st.text(min_size=0, max_size=80).filter(lambda n: n not in COMMANDS).map(
        lambda n: Hostile("unknown_command", _encode({"v": 1, "command": n, "args": {}}))
    )
    return st.one_of(
        random_bytes, random_json, deep, huge_numbers, envelope, unknown, wrong_types(),
        absent_ids(),
    )


def exchange(socket_path: Path, payload: bytes, timeout: float = 10.0) -> bytes:
    """Send ``payload`` on a fresh connection; return the first answer line (b"" if none)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(socket_path))
        # the daemon may answer (e.g. Busy) and hang up before reading: read the answer anyway
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(payload)
        received = b""
        while not received.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def answer(raw: bytes) -> dict[str, Any]:
    """A response line decoded (fails the test if it is not one JSON object)."""
    decoded = json.loads(raw)
    assert isinstance(decoded, dict), f"not a JSON object: {raw[:200]!r}"
    return decoded
