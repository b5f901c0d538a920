"""A real ControlServer on a temporary Unix socket with simple handlers: the allow-list, the
socket file's life (stale replaced, live refused, mode), idle and oversized clients, many
clients at once, and errors that never stop it serving."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from irpd.control.client import ControlClient, DaemonRefused
from irpd.control.handlers import translate_error
from irpd.control.peers import Peer, PeerPolicy
from irpd.control.protocol import COMMANDS
from irpd.control.server import ControlServer, Handler, SocketInUseError
from irpd.engine.priority import OperatorActivity
from irpd.errors import JobError
from tests.processes import wait_until

#: a bound on waiting for something to happen (never asserted as a duration)
PATIENCE = 30.0
NOBODY = 65534


async def _echo(args: dict[str, Any]) -> Any:
    return {"args": args}


async def _pong(_args: dict[str, Any]) -> Any:
    return {"pong": True}


async def _refuse(args: dict[str, Any]) -> Any:
    raise JobError(f"Job {args['job_id']} not found.")


async def _crash(_args: dict[str, Any]) -> Any:
    raise RuntimeError("a bug")


def handlers() -> dict[str, Handler]:
    table: dict[str, Handler] = dict.fromkeys(COMMANDS, _echo)
    table.update({"ping": _pong, "job.skip": _refuse, "job.cancel": _crash})
    return table


class RefuseEveryone(PeerPolicy):
    """An allow-list that admits nobody (not even root or the daemon's own user)."""

    def allows(self, peer: Peer) -> bool:
        return False


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory (AF_UNIX paths are limited to 107 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="irpd-ctl-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def sock_path(socket_dir: Path) -> Path:
    return socket_dir / "irpd.sock"


ServeFactory = Callable[..., contextlib.AbstractAsyncContextManager[ControlServer]]


@pytest.fixture
def serve(sock_path: Path) -> ServeFactory:
    @contextlib.asynccontextmanager
    async def running(**options: Any) -> AsyncIterator[ControlServer]:
        options.setdefault("policy", PeerPolicy())
        options.setdefault("translate_error", translate_error)
        server = ControlServer(options.pop("path", sock_path), handlers(), **options)
        await server.start()
        try:
            yield server
        finally:
            await server.stop()

    return running


class Conn:
    """One raw client connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, path: Path) -> Conn:
        reader, writer = await asyncio.open_unix_connection(str(path), limit=2**22)
        return cls(reader, writer)

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def answer(self) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), PATIENCE)
        assert line, "the server closed the connection"
        result: dict[str, Any] = json.loads(line)
        return result

    async def ask(self, command: str, args: dict[str, Any] | None = None, rid: Any = 1) -> Any:
        request = {"v": 1, "id": rid, "command": command, "args": args or {}}
        await self.send(json.dumps(request).encode() + b"\n")
        return await self.answer()

    async def closed_by_server(self) -> bool:
        """True once the server hung up (reads until EOF, discarding any last answer)."""
        rest = await asyncio.wait_for(self.reader.read(), PATIENCE)
        return isinstance(rest, bytes)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


def is_socket(path: Path) -> bool:
    return stat.S_ISSOCK(path.lstat().st_mode)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def exists(path: Path) -> bool:
    return path.exists()


def write(path: Path, text: str) -> None:
    path.write_text(text)


def read(path: Path) -> str:
    return path.read_text()


def make_traversable(path: Path) -> None:
    path.chmod(0o755)


# --- requests and answers ----------------------------------------------------------------------


async def test_requests_are_answered_in_order_on_one_connection(
    serve: ServeFactory, sock_path: Path
) -> None:
    async with serve():
        conn = await Conn.open(sock_path)
        assert await conn.ask("ping", rid=1) == {
            "v": 1,
            "id": 1,
            "ok": True,
            "result": {"pong": True},
        }
        shown = await conn.ask("job.show", {"job_id": 5}, rid="two")
        assert shown == {"v": 1, "id": "two", "ok": True, "result": {"args": {"job_id": 5}}}
        await conn.send(b"this is not json\n")
        bad = await conn.answer()
        assert bad["ok"] is False
        assert bad["error"]["type"] == "ProtocolError"
        assert (await conn.ask("ping", rid=3))["result"] == {"pong": True}
        await conn.close()


async def test_a_refused_request_echoes_its_id(serve: ServeFactory, sock_path: Path) -> None:
    async with serve():
        conn = await Conn.open(sock_path)
        answer = await conn.ask("job.show", {"job_id": "7"}, rid=41)
        assert answer["id"] == 41
        assert answer["error"]["type"] == "ProtocolError"
        assert "'job_id' must be an integer" in answer["error"]["message"]
        await conn.close()


async def test_domain_errors_and_crashes_are_answered_and_serving_goes_on(
    serve: ServeFactory, sock_path: Path
) -> None:
    async with serve():
        conn = await Conn.open(sock_path)
        with capture_logs() as logs:
            refused = await conn.ask("job.skip", {"job_id": 9, "reason": "x"})
            crashed = await conn.ask("job.cancel", {"job_id": 9})
        assert refused["error"] == {"type": "JobError", "message": "Job 9 not found."}
        assert crashed["error"]["type"] == "InternalError"
        assert "a bug" not in crashed["error"]["message"]
        events = {e["event"]: e for e in logs}
        assert events["control_command_refused"]["error_type"] == "JobError"
        assert events["control_command_crashed"]["command"] == "job.cancel"
        assert (await conn.ask("ping"))["ok"] is True
        await conn.close()


async def test_the_blocking_client_round_trips(serve: ServeFactory, sock_path: Path) -> None:
    def use_client() -> tuple[Any, DaemonRefused]:
        with ControlClient(sock_path, timeout=PATIENCE) as client:
            pong = client.call("ping")
            try:
                client.call("job.skip", {"job_id": 3, "reason": "r"})
            except DaemonRefused as exc:
                return pong, exc
        raise AssertionError("job.skip was not refused")

    async with serve():
        pong, refusal = await asyncio.to_thread(use_client)
    assert pong == {"pong": True}
    assert (refusal.kind, refusal.message) == ("JobError", "Job 3 not found.")


def test_every_command_needs_a_handler(sock_path: Path) -> None:
    incomplete = handlers()
    del incomplete["job.force_ok"]
    with pytest.raises(ValueError, match=r"job\.force_ok"):
        ControlServer(sock_path, incomplete, policy=PeerPolicy())


# --- the socket file ---------------------------------------------------------------------------


async def test_the_socket_is_created_with_mode_0660(serve: ServeFactory, sock_path: Path) -> None:
    async with serve():
        assert is_socket(sock_path)
        assert mode_of(sock_path) == 0o660
    assert not exists(sock_path), "stop() must remove the socket file"


async def test_a_configured_mode_is_applied(serve: ServeFactory, sock_path: Path) -> None:
    async with serve(mode=0o600):
        assert mode_of(sock_path) == 0o600


async def test_a_missing_parent_directory_is_created(serve: ServeFactory, socket_dir: Path) -> None:
    path = socket_dir / "run" / "irpd.sock"
    async with serve(path=path):
        conn = await Conn.open(path)
        assert (await conn.ask("ping"))["ok"] is True
        await conn.close()


async def test_a_stale_socket_file_is_replaced(serve: ServeFactory, sock_path: Path) -> None:
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path))
    dead.close()  # the file stays behind, nobody listens: what a killed daemon leaves
    assert is_socket(sock_path)
    with capture_logs() as logs:
        async with serve():
            conn = await Conn.open(sock_path)
            assert (await conn.ask("ping"))["ok"] is True
            await conn.close()
    assert "control_socket_stale_removed" in [e["event"] for e in logs]


async def test_a_live_socket_is_not_taken_over(serve: ServeFactory, sock_path: Path) -> None:
    async with serve() as first:
        second = ControlServer(sock_path, handlers(), policy=PeerPolicy())
        with pytest.raises(SocketInUseError, match="already serving"):
            await second.start()
        conn = await Conn.open(sock_path)
        assert (await conn.ask("ping"))["ok"] is True, "the first server must keep serving"
        await conn.close()
        assert first.requests == 1


async def test_a_file_that_is_not_a_socket_is_left_alone(sock_path: Path) -> None:
    write(sock_path, "precious")
    server = ControlServer(sock_path, handlers(), policy=PeerPolicy())
    with pytest.raises(SocketInUseError, match="not a socket"):
        await server.start()
    assert read(sock_path) == "precious"


# --- who may connect -----------------------------------------------------------------------------


async def test_the_current_user_is_allowed(serve: ServeFactory, sock_path: Path) -> None:
    async with serve(policy=PeerPolicy()):
        conn = await Conn.open(sock_path)
        assert (await conn.ask("ping"))["result"] == {"pong": True}
        await conn.close()


async def test_a_peer_the_policy_refuses_is_told_and_dropped(
    serve: ServeFactory, sock_path: Path
) -> None:
    with capture_logs() as logs:
        async with serve(policy=RefuseEveryone()) as server:
            conn = await Conn.open(sock_path)
            refusal = await conn.answer()  # sent before any request
            assert await conn.closed_by_server()
            await conn.close()
            assert server.requests == 0
    assert refusal["error"]["type"] == "PermissionDenied"
    refused = [e for e in logs if e["event"] == "control_peer_refused"]
    assert refused
    assert refused[0]["uid"] == os.getuid()
    assert refused[0]["pid"] == os.getpid()


PROBE = """
import json, os, sys
from irpd.control.client import ControlClient, DaemonRefused
os.setgroups([])
os.setgid(int(sys.argv[2]))
os.setuid(int(sys.argv[2]))
with ControlClient(sys.argv[1], timeout=30) as client:
    try:
        print(json.dumps({"result": client.call("ping")}))
    except DaemonRefused as exc:
        print(json.dumps({"error": {"type": exc.kind, "message": exc.message}}))
"""


def _as_nobody(path: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, str(path), str(NOBODY)],
        capture_output=True,
        text=True,
        timeout=PATIENCE,
        check=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
@pytest.mark.parametrize(("allowed", "expected"), [((), "PermissionDenied"), ((NOBODY,), None)])
async def test_another_real_user_is_refused_unless_listed(
    serve: ServeFactory,
    socket_dir: Path,
    sock_path: Path,
    allowed: tuple[int, ...],
    expected: str | None,
) -> None:
    make_traversable(socket_dir)
    async with serve(mode=0o666, policy=PeerPolicy(uids=allowed)):
        answer = await asyncio.to_thread(_as_nobody, sock_path)
    if expected is None:
        assert answer["result"] == {"pong": True}
    else:
        assert answer["error"]["type"] == expected


# --- bounded clients -----------------------------------------------------------------------------


async def test_a_silent_client_is_dropped_while_others_are_served(
    serve: ServeFactory, sock_path: Path
) -> None:
    async with serve(idle_timeout=0.5):
        silent = await Conn.open(sock_path)
        partial = await Conn.open(sock_path)
        await partial.send(b'{"v": 1, "id": 1, "comm')  # and never finishes the line
        active = await Conn.open(sock_path)
        assert (await active.ask("ping"))["ok"] is True
        assert await silent.closed_by_server()
        assert await partial.closed_by_server()
        late = await Conn.open(sock_path)
        assert (await late.ask("ping"))["ok"] is True
        for conn in (silent, partial, active, late):
            await conn.close()


async def test_many_clients_at_once(serve: ServeFactory, sock_path: Path) -> None:
    clients, rounds = 100, 5

    async def one(index: int) -> list[Any]:
        conn = await Conn.open(sock_path)
        answers = []
        for turn in range(rounds):
            answer = await conn.ask("job.show", {"job_id": index + 1}, rid=f"{index}-{turn}")
            answers.append((answer["id"], answer["result"]["args"]["job_id"]))
        await conn.close()
        return answers

    async with serve(max_clients=clients) as server:
        results = await asyncio.gather(*(one(i) for i in range(clients)))
        assert server.requests == clients * rounds
    for index, answers in enumerate(results):
        assert answers == [(f"{index}-{turn}", index + 1) for turn in range(rounds)]


async def test_clients_beyond_the_limit_are_told_busy(serve: ServeFactory, sock_path: Path) -> None:
    async with serve(max_clients=2):
        holders = [await Conn.open(sock_path) for _ in range(2)]
        for conn in holders:
            assert (await conn.ask("ping"))["ok"] is True  # each now holds a slot
        extra = await Conn.open(sock_path)
        busy = await extra.answer()
        assert busy["error"]["type"] == "Busy"
        assert await extra.closed_by_server()
        await extra.close()
        await holders[0].close()

        async def served_again() -> None:
            while True:
                conn = await Conn.open(sock_path)
                answer = await conn.ask("ping")
                await conn.close()
                if answer["ok"]:
                    return

        await asyncio.wait_for(served_again(), PATIENCE)
        await holders[1].close()


def _sized_request(total: int) -> bytes:
    """A valid ping-like request line of exactly ``total`` bytes before its newline."""
    head = b'{"v": 1, "id": 1, "command": "cycle.create", "args": {"name": "'
    tail = b'"}}'
    return head + b"n" * (total - len(head) - len(tail)) + tail + b"\n"


@pytest.mark.parametrize("size", [1024 + 1, 1024 + 1000, 64 * 1024])
async def test_an_oversized_request_is_refused_and_serving_goes_on(
    serve: ServeFactory, sock_path: Path, size: int
) -> None:
    async with serve(max_request_bytes=1024) as server:
        big = await Conn.open(sock_path)
        await big.send(_sized_request(size))
        answer = await big.answer()
        assert answer["error"] == {
            "type": "ProtocolError",
            "message": "request larger than 1024 bytes",
        }
        assert await big.closed_by_server()
        await big.close()
        assert server.requests == 0
        fine = await Conn.open(sock_path)
        exact = _sized_request(1024)
        await fine.send(exact)
        assert (await fine.answer())["ok"] is True
        assert (await fine.ask("ping"))["ok"] is True
        await fine.close()


async def test_an_endless_line_without_newline_is_cut_off(
    serve: ServeFactory, sock_path: Path
) -> None:
    async with serve(max_request_bytes=1024):
        flood = await Conn.open(sock_path)
        await flood.send(b"x" * 8192)
        answer = await flood.answer()
        assert answer["error"]["message"] == "request larger than 1024 bytes"
        assert await flood.closed_by_server()
        await flood.close()


async def test_stop_cuts_connected_clients_and_removes_the_socket(
    serve: ServeFactory, sock_path: Path
) -> None:
    async with serve() as server:
        idle = await Conn.open(sock_path)
        assert (await idle.ask("ping"))["ok"] is True
        await server.stop()
        assert await idle.closed_by_server()
        assert not exists(sock_path)
        await idle.close()


async def test_the_blocking_client_reports_busy_not_a_broken_pipe(
    serve: ServeFactory, sock_path: Path
) -> None:
    def ping() -> str:
        with ControlClient(sock_path, timeout=PATIENCE) as client:
            try:
                client.call("ping")
            except DaemonRefused as exc:
                return exc.kind
        return "served"

    async with serve(max_clients=1):
        holder = await Conn.open(sock_path)
        assert (await holder.ask("ping"))["ok"] is True
        kinds = [await asyncio.to_thread(ping) for _ in range(20)]
        await holder.close()
    assert set(kinds) == {"Busy"}


async def test_operator_activity_spans_a_request_from_admission_to_answer(
    sock_path: Path,
) -> None:
    """Background work yields while an operator waits: from the connection's admission until
    the answer is written, again for each further request, and not while idle after it."""
    release = asyncio.Event()
    seen_running: list[int] = []
    activity = OperatorActivity()

    async def slow(_args: dict[str, Any]) -> Any:
        seen_running.append(activity.running)
        await release.wait()
        return {"done": True}

    server = ControlServer(
        sock_path, {**handlers(), "types": slow}, policy=PeerPolicy(), activity=activity
    )
    await server.start()
    try:
        assert activity.running == 0
        conn = await Conn.open(sock_path)
        await wait_until(lambda: activity.running == 1)  # admitted, no request yet
        await conn.send(b'{"v": 1, "id": 1, "command": "types", "args": {}}\n')
        await wait_until(lambda: bool(seen_running))
        assert seen_running == [1]
        release.set()
        assert (await conn.answer())["result"] == {"done": True}
        await wait_until(lambda: activity.running == 0)  # idle connection: not counted
        assert activity.recent()
        assert (await conn.ask("ping"))["ok"] is True
        await conn.close()
        await wait_until(lambda: activity.running == 0)
    finally:
        await server.stop()


async def test_a_refused_peer_is_not_operator_activity(
    serve: ServeFactory, sock_path: Path
) -> None:
    async with serve(policy=RefuseEveryone()) as server:
        conn = await Conn.open(sock_path)
        await conn.answer()
        assert await conn.closed_by_server()
        await conn.close()
        assert server.activity.running == 0
        assert not server.activity.recent()


async def test_a_connection_that_sends_nothing_stops_counting_as_activity(
    serve: ServeFactory, sock_path: Path
) -> None:
    async with serve() as server:
        conn = await Conn.open(sock_path)
        await wait_until(lambda: server.activity.running == 1)
        await wait_until(lambda: server.activity.running == 0)  # after the admission grace
        assert (await conn.ask("ping"))["ok"] is True
        await conn.close()
