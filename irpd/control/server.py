"""The control socket server: one JSON request per line, bounded in size, time and clients."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import socket
import stat
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import structlog

from irpd import loopcost
from irpd.control import protocol
from irpd.control.peers import PeerPolicy, peer_of
from irpd.engine.priority import OperatorActivity, OperatorSpan
from irpd.errors import IrpdError

log = structlog.get_logger("irpd.control")

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


#: read-only commands not logged as ``control_command`` (they are asked often, e.g. page by page)
QUIET_COMMANDS = frozenset(
    {"status", "ping", "batch.show", "batch.jobs", "batch.configs", "job.show", "job.tracking"}
    | {"batch.list", "config.list", "cycle.list", "report.batches", "report.jobs"}
    | {"notifications.list"}
)

#: reads that waiters and monitors repeat (``batch wait``, ``batch submit``'s progress, the
#: demo, health checks): they count as activity while answered, but leave no window of
#: throttled tracking behind them (irpd/engine/priority.py)
POLLED_COMMANDS = frozenset({"ping", "status", "batch.show", "cycle.status", "job.show"})

#: seconds an admitted connection counts as operator activity before its first request
ADMISSION_GRACE = 1.0


class SocketInUseError(IrpdError):
    """Another live process is serving the control socket path."""

    kind = "SocketInUseError"


class ControlServer:
    """Serves :data:`irpd.control.protocol.COMMANDS` on a Unix socket."""

    def __init__(
        self,
        path: Path,
        handlers: Mapping[str, Handler],
        *,
        policy: PeerPolicy,
        mode: int = 0o660,
        max_request_bytes: int = 1_048_576,
        idle_timeout: float = 30.0,
        max_clients: int = 64,
        translate_error: Callable[[BaseException], tuple[str, str, Any] | None] | None = None,
        activity: OperatorActivity | None = None,
    ) -> None:
        self.path = path
        self._handlers = _complete(handlers)
        self._policy = policy
        self._mode = mode
        self._max_bytes = max_request_bytes
        self._idle_timeout = idle_timeout
        self._slots = asyncio.Semaphore(max_clients)
        self._translate = translate_error
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[Any]] = set()
        self.requests = 0
        #: commands in progress and recently (background work yields to them)
        self.activity = activity or OperatorActivity()

    def serve(self, handlers: Mapping[str, Handler]) -> None:
        """Answer with ``handlers`` from now on (start-up's, then the ready daemon's)."""
        self._handlers = _complete(handlers)

    async def start(self) -> None:
        """Bind the socket (replacing a stale one) with the configured mode; nothing when it
        is already bound."""
        if self._server is not None:
            return
        _clear_stale(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        old_umask = os.umask(0o777 & ~self._mode)
        try:
            self._server = await asyncio.start_unix_server(
                self._client, path=str(self.path), limit=self._max_bytes + 1
            )
        finally:
            os.umask(old_umask)
        os.chmod(self.path, self._mode)
        log.info("control_socket_listening", path=str(self.path), mode=oct(self._mode))

    async def stop(self) -> None:
        """Stop accepting, finish or cut current clients, remove the socket file (only one
        this server bound: never another daemon's)."""
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._clients.add(task)
        span = OperatorSpan(self.activity)
        try:
            await self._serve(reader, writer, span)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            span.stop()
            if task is not None:
                self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, span: OperatorSpan
    ) -> None:
        sock = writer.get_extra_info("socket")
        peer = peer_of(sock) if sock is not None else None
        if peer is None or not self._policy.allows(peer):
            log.warning(
                "control_peer_refused",
                uid=getattr(peer, "uid", None),
                pid=getattr(peer, "pid", None),
            )
            writer.write(
                protocol.error(
                    None, "PermissionDenied", "this user may not use the irpd control socket"
                )
            )
            await writer.drain()
            return
        if self._slots.locked():
            writer.write(protocol.error(None, "Busy", "too many control clients; try again"))
            await writer.drain()
            return
        # an admitted operator's first request is on its way: background work yields from now,
        # but a client that connects and sends nothing stops counting after a moment
        span.start()
        asyncio.get_running_loop().call_later(ADMISSION_GRACE, span.stop_if_idle)
        async with self._slots:
            while True:
                line = await self._read_line(reader, writer)
                if line is None:
                    return
                span.request()
                started = time.perf_counter()
                collections = _gc_passes()
                cost = loopcost.begin()
                command, pieces = await self._answer(line, peer.uid)
                first, size = await self._write(writer, pieces)
                span.stop(polled=command in POLLED_COMMANDS)
                _log_answered(command, started, first, size, cost, collections)

    async def _read_line(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes | None:
        try:
            line = await asyncio.wait_for(reader.readuntil(b"\n"), self._idle_timeout)
        except TimeoutError:
            return None
        except asyncio.IncompleteReadError:
            return None
        except asyncio.LimitOverrunError:
            writer.write(
                protocol.error(
                    None, "ProtocolError", f"request larger than {self._max_bytes} bytes"
                )
            )
            await writer.drain()
            return None
        if len(line) > self._max_bytes + 1:
            writer.write(
                protocol.error(
                    None, "ProtocolError", f"request larger than {self._max_bytes} bytes"
                )
            )
            return None
        return line

    @staticmethod
    async def _write(
        writer: asyncio.StreamWriter, pieces: Iterable[bytes]
    ) -> tuple[float | None, int]:
        """Write an answer piece by piece, giving the loop back between pieces (a page of
        thousands of rows is encoded a few hundred rows at a time); each piece's encoding is
        one step of the answer's loop cost. Returns when the first byte was written
        (``perf_counter``) and how many bytes were."""
        first: float | None = None
        size = 0
        iterator = iter(pieces)
        while True:
            if first is not None:
                await asyncio.sleep(0)
            with loopcost.step():
                piece = next(iterator, None)
                if piece is not None:
                    writer.write(piece)
            if piece is None:
                return first, size
            if first is None:
                first = time.perf_counter()
            size += len(piece)
            await writer.drain()

    async def _answer(self, line: bytes, uid: int) -> tuple[str | None, Iterable[bytes]]:
        """The request's command (None when unreadable) and the pieces of its answer."""
        try:
            request = protocol.parse_request(line)
        except protocol.ProtocolError as exc:
            return None, [protocol.error(exc.request_id, exc.kind, str(exc))]
        return request.command, await self._result(request, uid)

    async def _result(self, request: protocol.Request, uid: int) -> Iterable[bytes]:
        self.requests += 1
        bound = log.bind(command=request.command, uid=uid)
        try:
            result = await self._handlers[request.command](request.args)
        except Exception as exc:
            translated = self._translate(exc) if self._translate else None
            if translated is None:
                bound.error("control_command_crashed", exc_info=exc)
                return [
                    protocol.error(
                        request.id,
                        "InternalError",
                        "internal error; see the irpd log (control_command_crashed)",
                    )
                ]
            kind, message, details = translated
            bound.info("control_command_refused", error_type=kind, error=message)
            return [protocol.error(request.id, kind, message, details)]
        if request.command not in QUIET_COMMANDS:
            bound.info(
                "control_command", **{k: v for k, v in request.args.items() if k != "content_b64"}
            )
        return protocol.ok_chunks(request.id, result)


def _complete(handlers: Mapping[str, Handler]) -> Mapping[str, Handler]:
    """``handlers``, refused unless every command of the protocol has one."""
    missing = sorted(set(protocol.COMMANDS) - set(handlers))
    if missing:
        raise ValueError(f"no handler for commands {missing}")
    return handlers


def _gc_passes() -> list[int]:
    return [generation["collections"] for generation in gc.get_stats()]


def _log_answered(
    command: str | None,
    started: float,
    first: float | None,
    size: int,
    cost: loopcost.LoopCost,
    collections: list[int],
) -> None:
    """What an answer cost the daemon (debug: the listing benchmark reads it)."""
    done = time.perf_counter()
    log.debug(
        "control_answered",
        command=command,
        first_byte_ms=round(((first or done) - started) * 1000, 3),
        answer_ms=round((done - started) * 1000, 3),
        loop_cpu_ms=round(cost.cpu_s * 1000, 3),
        loop_step_max_ms=round(cost.longest_s * 1000, 3),
        steps=cost.steps,
        bytes=size,
        # the garbage collector's passes meanwhile, by generation (whichever task ran them)
        gc_passes=[now - before for now, before in zip(_gc_passes(), collections, strict=True)],
    )


def _clear_stale(path: Path) -> None:
    """Remove a socket file left by a dead process; refuse if a live one answers on it."""
    if not path.exists() and not path.is_symlink():
        return
    if not stat.S_ISSOCK(path.lstat().st_mode):
        raise SocketInUseError(f"{path} exists and is not a socket; refusing to replace it")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        path.unlink(missing_ok=True)
        log.info("control_socket_stale_removed", path=str(path))
        return
    except OSError:
        path.unlink(missing_ok=True)
        return
    finally:
        probe.close()
    raise SocketInUseError(f"another irpd is already serving {path}")
