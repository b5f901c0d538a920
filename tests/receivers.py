"""Real local receivers for notification tests: an aiohttp server standing in for Teams, Slack
and generic webhooks, and an aiosmtpd SMTP server with STARTTLS.

Both record what they received. Both can be *down*: the HTTP receiver answers 503, the SMTP
one refuses each message with a temporary 451 (``mailbox.down``). The HTTP receiver can also
*hang* the next request until released (to kill a daemon in the middle of a delivery). It
runs in the test's event loop (:meth:`HttpReceiver.start`) or in a thread of its own
(:meth:`HttpReceiver.start_in_thread`, for tests that drive processes synchronously).
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True)
class Received:
    """One HTTP request as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def key(self) -> str:
        """Its Idempotency-Key header."""
        return self.headers.get("Idempotency-Key", "")

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Accepts POSTs on any path; ``answer`` (200) unless ``down`` (503) or hanging."""

    down: bool = False
    #: what a request gets while the receiver is up (e.g. 404: a revoked webhook)
    answer: int = 200
    requests: list[Received] = field(default_factory=list)
    _hang_next: bool = False
    _release: threading.Event = field(default_factory=threading.Event)
    hanging: threading.Event = field(default_factory=threading.Event)
    _runner: web.AppRunner | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    port: int = 0

    def url(self, path: str) -> str:
        """The URL of ``path`` on this receiver."""
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self, path: str | None = None) -> list[Received]:
        """Requests answered 200 (on ``path``)."""
        return [r for r in self.requests if r.answered == 200 and path in (None, r.path)]

    def hang_next(self) -> None:
        """Hold the next request until :meth:`release` (then answer 200)."""
        self._hang_next = True
        self._release.clear()
        self.hanging.clear()

    def release(self) -> None:
        """Let a held request finish."""
        self._release.set()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        if self._hang_next:
            self._hang_next = False
            self.hanging.set()
            await asyncio.get_running_loop().run_in_executor(None, self._release.wait, 60)
        status = 503 if self.down else self.answer
        self.requests.append(Received(request.path, dict(request.headers), body, status))
        return web.Response(status=status, text="1" if status == 200 else "down")

    async def start(self) -> None:
        """Listen on a free loopback port in the running loop."""
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def start_in_thread(self) -> None:
        """Run in a thread with its own event loop (for synchronous tests)."""
        ready = threading.Event()

        def main() -> None:
            loop = self._loop = asyncio.new_event_loop()
            loop.run_until_complete(self.start())
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop_thread(self) -> None:
        """Stop the thread started by :meth:`start_in_thread`."""
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.tls: list[bool] = []
        #: while set, every message is refused for now (451, a temporary failure)
        self.down = False
        #: Message-IDs of the messages refused while down
        self.refused: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        if self.down:
            self.refused.append(str(message_from_bytes(content)["Message-ID"]))
            return "451 4.3.0 mailbox unavailable, try again later"
        self.messages.append(message_from_bytes(content))
        self.tls.append(session.ssl is not None)
        return "250 OK"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1/localhost (openssl), valid for a day."""
    cert, key = directory / "smtp.crt", directory / "smtp.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class SmtpReceiver:
    """An SMTP server on a free loopback port that requires STARTTLS."""

    def __init__(self, directory: Path) -> None:
        self.cert, key = self_signed(directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, key)
        self.mailbox = _Mailbox()
        with socket.socket() as probe:  # aiosmtpd needs a port number up front
            probe.bind(("127.0.0.1", 0))
            free = int(probe.getsockname()[1])
        self._controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=free,
            tls_context=context,
            require_starttls=True,
        )

    @property
    def messages(self) -> list[Message]:
        """What was delivered."""
        return self.mailbox.messages

    @property
    def port(self) -> int:
        """Where it listens."""
        return int(self._controller.port)

    def start(self) -> None:
        """Serve (in aiosmtpd's own thread)."""
        self._controller.start()

    def stop(self) -> None:
        """Stop serving."""
        self._controller.stop()
