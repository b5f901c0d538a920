"""sd_notify against a real ``NOTIFY_SOCKET``: the messages, the watchdog loop, and (e2e) the
real ``irpd run`` under a fake service manager: READY after the socket exists, WATCHDOG
while running, STOPPING + EXTEND_TIMEOUT_USEC on SIGTERM, exit 0."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from irpd.control.client import ControlClient
from irpd.systemd import Notifier, watchdog_interval, watchdog_loop

ROOT = Path(__file__).resolve().parents[2]
#: generous bounds for waiting on something to happen (never asserted as durations)
PATIENCE = 60.0


class FakeServiceManager:
    """The receiving end of ``$NOTIFY_SOCKET``: a bound AF_UNIX datagram socket."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        bind_to = "\0" + address[1:] if address.startswith("@") else address
        self.sock.bind(bind_to)
        self.sock.setblocking(False)

    def pending(self) -> list[dict[str, str]]:
        """Every datagram received so far, parsed into fields."""
        out: list[dict[str, str]] = []
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return out
            out.append(_fields(data))

    async def next(self, timeout: float = PATIENCE) -> dict[str, str]:
        """The next datagram (waits for it)."""
        loop = asyncio.get_running_loop()
        data = await asyncio.wait_for(loop.sock_recv(self.sock, 65536), timeout)
        return _fields(data)

    async def until(self, field: str, timeout: float = PATIENCE) -> list[dict[str, str]]:
        """Datagrams up to and including the first one carrying ``field``."""
        seen: list[dict[str, str]] = []

        async def collect() -> None:
            while True:
                message = await self.next(timeout)
                seen.append(message)
                if field in message:
                    return

        await asyncio.wait_for(collect(), timeout)
        return seen

    def close(self) -> None:
        self.sock.close()


def _fields(data: bytes) -> dict[str, str]:
    return dict(line.split("=", 1) for line in data.decode().split("\n") if line)


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[FakeServiceManager]:
    fake = FakeServiceManager(str(tmp_path / "notify.sock"))
    yield fake
    fake.close()


@pytest.fixture
def abstract_manager() -> Iterator[FakeServiceManager]:
    fake = FakeServiceManager(f"@irpd-test-{uuid.uuid4().hex}")
    yield fake
    fake.close()


# --- Notifier --------------------------------------------------------------------------------


def test_messages_reach_a_path_socket(manager: FakeServiceManager) -> None:
    notifier = Notifier(manager.address)
    assert notifier.enabled
    notifier.ready("db ok; tracking 0 jobs")
    notifier.status("tracking 3 jobs")
    notifier.watchdog()
    notifier.stopping(30)
    notifier.close()
    ready, status, watchdog, stopping = manager.pending()
    assert ready == {
        "READY": "1",
        "STATUS": "db ok; tracking 0 jobs",
        "MAINPID": str(os.getpid()),
    }
    assert status == {"STATUS": "tracking 3 jobs"}
    assert watchdog == {"WATCHDOG": "1"}
    assert stopping == {"STOPPING": "1", "EXTEND_TIMEOUT_USEC": "30000000", "STATUS": "draining"}


def test_messages_reach_an_abstract_socket(abstract_manager: FakeServiceManager) -> None:
    notifier = Notifier(abstract_manager.address)
    notifier.watchdog()
    notifier.close()
    assert abstract_manager.pending() == [{"WATCHDOG": "1"}]


def test_notify_socket_comes_from_the_environment(
    manager: FakeServiceManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", manager.address)
    notifier = Notifier()
    notifier.status("hello")
    notifier.close()
    assert manager.pending() == [{"STATUS": "hello"}]


def test_without_a_notify_socket_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled
    notifier.ready("x")
    notifier.watchdog()
    notifier.close()


def test_a_vanished_manager_is_logged_not_raised(tmp_path: Path) -> None:
    fake = FakeServiceManager(str(tmp_path / "gone.sock"))
    fake.close()
    (tmp_path / "gone.sock").unlink()
    notifier = Notifier(fake.address)
    with capture_logs() as logs:
        notifier.watchdog()
    notifier.close()
    assert [e["event"] for e in logs] == ["sd_notify_failed"]


def test_close_is_idempotent_and_silences(manager: FakeServiceManager) -> None:
    notifier = Notifier(manager.address)
    notifier.close()
    notifier.close()
    notifier.watchdog()
    assert manager.pending() == []


# --- watchdog_interval -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [
        ("2000000", None, 1.0),
        ("60000000", "self", 30.0),
        ("2000000", "1", None),
        ("soon", None, None),
        (None, None, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(
    monkeypatch: pytest.MonkeyPatch, usec: str | None, pid: str | None, expected: float | None
) -> None:
    for name, value in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, str(os.getpid()) if value == "self" else value)
    assert watchdog_interval() == expected


# --- watchdog_loop ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def running_watchdog(
    notifier: Notifier, healthy: Callable[[], Awaitable[bool]], interval: float = 0.01
) -> AsyncIterator[None]:
    task = asyncio.create_task(watchdog_loop(notifier, interval, healthy))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class Checks:
    """A health check that answers from ``answer`` and counts its calls."""

    def __init__(self, answer: bool, *, hang: bool = False) -> None:
        self.answer = answer
        self.hang = hang
        self.calls = 0
        self._reached: dict[int, asyncio.Event] = {}

    async def __call__(self) -> bool:
        self.calls += 1
        for count, event in self._reached.items():
            if self.calls >= count:
                event.set()
        if self.hang:
            await asyncio.Event().wait()
        return self.answer

    async def reached(self, count: int) -> None:
        """Wait until the check has been called ``count`` times."""
        event = self._reached.setdefault(count, asyncio.Event())
        if self.calls >= count:
            event.set()
        await asyncio.wait_for(event.wait(), PATIENCE)


async def test_a_healthy_process_pets_the_watchdog(manager: FakeServiceManager) -> None:
    notifier = Notifier(manager.address)
    async with running_watchdog(notifier, Checks(True)):
        for _ in range(3):
            assert await manager.next() == {"WATCHDOG": "1"}
    notifier.close()


async def test_an_unhealthy_process_withholds_the_watchdog(manager: FakeServiceManager) -> None:
    notifier = Notifier(manager.address)
    checks = Checks(False)
    with capture_logs() as logs:
        async with running_watchdog(notifier, checks):
            await checks.reached(3)
    notifier.close()
    assert manager.pending() == []
    withheld = [e for e in logs if e["event"] == "watchdog_withheld"]
    assert len(withheld) >= 2
    assert withheld[0]["reason"] == "unhealthy"


async def test_pets_resume_when_health_returns(manager: FakeServiceManager) -> None:
    notifier = Notifier(manager.address)
    checks = Checks(False)
    async with running_watchdog(notifier, checks):
        await checks.reached(2)
        assert manager.pending() == []
        checks.answer = True
        assert await manager.next() == {"WATCHDOG": "1"}
    notifier.close()


async def test_a_hung_health_check_withholds_and_says_why(manager: FakeServiceManager) -> None:
    notifier = Notifier(manager.address)
    checks = Checks(True, hang=True)
    with capture_logs() as logs:
        async with running_watchdog(notifier, checks, interval=0.02):
            await checks.reached(2)  # the first check was given up, the loop went on
    notifier.close()
    assert manager.pending() == []
    assert logs[0] == {
        "event": "watchdog_withheld",
        "reason": "health check timed out",
        "log_level": "warning",
    }


# --- the real daemon (e2e) -------------------------------------------------------------------


async def _start_fake_moodys(api_key: str) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "irpd.cli.main",
        "fake-moodys",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--api-key",
        api_key,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), PATIENCE)
    text = line.decode().strip()
    assert text.startswith("fake-moodys listening on "), text
    return process, text.rsplit(" ", 1)[-1]


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), PATIENCE)
        except TimeoutError:
            process.kill()
            await process.wait()


def _daemon_env(tmp_path: Path, dsn: str, base_url: str, notify: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("IRPD_", "NOTIFY_", "WATCH"))}
    env.update(
        IRPD_DATABASE_DSN=dsn,
        IRPD_MOODYS_BASE_URL=base_url,
        IRPD_MOODYS_API_KEY="notify-test-key",
        IRPD_STATE_DIR=str(tmp_path / "state"),
        IRPD_CONTROL_SOCKET=str(tmp_path / "irpd.sock"),
        IRPD_LOGGING_FORMAT="json",
        IRPD_ENGINE_DRAIN_TIMEOUT="5",
        NOTIFY_SOCKET=notify,
        WATCHDOG_USEC="1000000",
    )
    return env


@pytest.mark.e2e
async def test_irpd_run_speaks_the_notify_protocol(
    tmp_path: Path, db_dsn: str, manager: FakeServiceManager
) -> None:
    fake, base_url = await _start_fake_moodys("notify-test-key")
    log_file = tmp_path / "irpd.log"
    try:
        with log_file.open("wb") as stderr:
            daemon = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "irpd.cli.main",
                "run",
                "--config",
                str(ROOT / "irpd.toml"),
                env=_daemon_env(tmp_path, db_dsn, base_url, manager.address),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr,
            )
        try:
            await _check_daemon(daemon, tmp_path, manager)
        finally:
            await _stop(daemon)
    finally:
        await _stop(fake)
    events = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    names = [e["event"] for e in events]
    assert {"control_socket_listening", "irpd_ready", "irpd_stopping", "irpd_stopped"} <= set(
        names
    ), names
    assert all("timestamp" in e and "level" in e for e in events)
    assert "notify-test-key" not in log_file.read_text()


async def _check_daemon(
    daemon: asyncio.subprocess.Process, tmp_path: Path, manager: FakeServiceManager
) -> None:
    before_ready = await manager.until("READY")
    assert (tmp_path / "irpd.sock").is_socket(), "READY=1 came before the socket was bound"
    ready = before_ready[-1]
    assert ready["READY"] == "1"
    assert ready["MAINPID"] == str(daemon.pid)
    assert ready["STATUS"].startswith("db ok")
    answered = await asyncio.to_thread(_ping, tmp_path / "irpd.sock")
    assert answered == {"pong": True}
    pets = 0
    while pets < 2:
        if "WATCHDOG" in await manager.next():
            pets += 1
    daemon.send_signal(signal.SIGTERM)
    stopping = (await manager.until("STOPPING"))[-1]
    assert stopping["STOPPING"] == "1"
    assert int(stopping["EXTEND_TIMEOUT_USEC"]) >= 5 * 1_000_000
    code = await asyncio.wait_for(daemon.wait(), PATIENCE)
    assert code == 0
    assert not (tmp_path / "irpd.sock").exists()


def _ping(path: Path) -> Any:
    with ControlClient(path, timeout=10.0) as client:
        return client.call("ping")
