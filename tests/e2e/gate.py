"""A TCP gate in front of the fake Moody's (or PostgreSQL, over TCP or its Unix socket:
``unix:///dir/.s.PGSQL.5432``), in its own process: it relays connections while
open; while shut, it accepts each connection and resets it at once (Moody's refusing
connections) and writes the time of each to a file, so a test can count the daemon's
attempts during an outage. (A process, not a thread: a thread running beside pytest's import
machinery trips CPython 3.11's "AST constructor recursion depth mismatch".)

    python -m tests.e2e.gate TARGET_URL REFUSALS_FILE   # prints "port N"; SIGUSR1 shuts,
                                                        # SIGUSR2 opens (each answered by a line)
"""

from __future__ import annotations

import asyncio
import functools
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from tests.processes import HarnessError, clean_environment


class TcpGate:
    """The gate process, seen from a test: ``url`` to give the daemon; :meth:`shut`,
    :meth:`open`, :meth:`refused_between`."""

    def __init__(self, target_url: str, workdir: Path) -> None:
        self._refusals = workdir / "gate-refusals.txt"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.gate", target_url, str(self._refusals)],
            stdout=subprocess.PIPE,
            text=True,
            env=clean_environment(),
        )
        self.url = f"http://127.0.0.1:{self._answer('port ').removeprefix('port ')}"

    def _answer(self, expected: str) -> str:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.startswith(expected):
            raise HarnessError(f"the TCP gate answered {line!r}, not {expected!r}")
        return line

    def shut(self) -> None:
        """Refuse from now on, and cut the connections being relayed."""
        self._proc.send_signal(signal.SIGUSR1)
        self._answer("shut")

    def open(self) -> None:
        """Relay again."""
        self._proc.send_signal(signal.SIGUSR2)
        self._answer("open")

    def refused_between(self, start: float, end: float) -> int:
        """Connections refused within [start, end] (``time.time()`` seconds)."""
        if not self._refusals.exists():
            return 0
        times = [float(t) for t in self._refusals.read_text().split()]
        return sum(1 for at in times if start <= at <= end)

    def close(self) -> None:
        """Stop the gate process."""
        self._proc.terminate()
        self._proc.wait(10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


Connect = Callable[[], Awaitable[tuple[asyncio.StreamReader, asyncio.StreamWriter]]]


class _Relay:
    def __init__(self, connect: Connect, refusals: Path) -> None:
        self._connect = connect
        self._refusals = refusals
        self._shut = False
        self._streams: set[asyncio.StreamWriter] = set()

    def shut(self) -> None:
        self._shut = True
        for writer in list(self._streams):
            writer.transport.abort()
        print("shut", flush=True)

    def open(self) -> None:
        self._shut = False
        print("open", flush=True)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._shut:
            with self._refusals.open("a") as log:
                log.write(f"{time.time()}\n")
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await self._connect()
        except OSError:
            writer.transport.abort()
            return
        self._streams |= {writer, up_writer}
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            self._streams -= {writer, up_writer}


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (OSError, ConnectionError):
        pass
    finally:
        writer.transport.abort()


async def _serve(target_url: str, refusals: Path) -> None:
    parts = urlsplit(target_url)
    if parts.scheme == "unix":  # unix:///path/to/socket (an embedded PostgreSQL's)
        relay = _Relay(functools.partial(asyncio.open_unix_connection, parts.path), refusals)
    else:
        host, port = parts.hostname or "127.0.0.1", int(parts.port or 80)
        relay = _Relay(functools.partial(asyncio.open_connection, host, port), refusals)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, relay.shut)
    loop.add_signal_handler(signal.SIGUSR2, relay.open)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    server = await asyncio.start_server(relay.handle, "127.0.0.1", 0)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], Path(sys.argv[2])))
