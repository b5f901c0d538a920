"""Fixtures of the end-to-end tests.

``fake`` is one fake Moody's subprocess per test module (a module may set ``FAKE_SEED`` and
``FAKE_ARGS``); ``stack`` is a fresh migrated database (the session's PostgreSQL) plus a
running ``irpd run`` daemon for one test (``DAEMON_ENV`` adds settings; with ``GATED = True``
it reaches the fake through a :class:`~tests.e2e.gate.TcpGate`, ``stack.gate``); ``ctl`` is
irpctl bound to it. On teardown the daemon gets SIGTERM and must exit 0; a failed test prints
the daemon's log.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from .gate import TcpGate
from .harness import EXIT_OK, FakeMoodys, Irpctl
from .stack import Stack

_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether a test's call phase failed (teardown prints logs then)."""
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report


def _workdir(prefix: str) -> Path:
    # short, under /tmp: the control socket path must fit AF_UNIX's 108 bytes
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


@pytest.fixture(scope="module")
def fake(request: pytest.FixtureRequest) -> Iterator[FakeMoodys]:
    """The module's fake Moody's server (time scale 3600, api key e2e-key)."""
    workdir = _workdir("irpd-fake-")
    seed = int(getattr(request.module, "FAKE_SEED", 11))
    args = tuple(getattr(request.module, "FAKE_ARGS", ()))
    server = FakeMoodys.start(workdir, seed, args)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def stack(request: pytest.FixtureRequest, fake: FakeMoodys, db_dsn: str) -> Iterator[Stack]:
    """A running daemon on a fresh database; SIGTERM on teardown must exit 0."""
    workdir = _workdir("irpd-")
    env = dict(getattr(request.module, "DAEMON_ENV", {}))
    gate = TcpGate(fake.base_url, workdir) if getattr(request.module, "GATED", False) else None
    built = Stack(fake, db_dsn, workdir, env, gate)
    try:
        built.start_daemon()
        yield built
        rc = built.close()
        assert rc in (None, EXIT_OK), f"irpd exited with {rc} after SIGTERM:\n{built.logs()}"
    finally:
        try:
            built.close()
        finally:
            if request.node.stash.get(_FAILED, False):
                print(built.logs())
                print(f"=== fake Moody's log: {fake.log_path}")
            if gate is not None:
                gate.close()
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def ctl(stack: Stack) -> Irpctl:
    """irpctl bound to the test's daemon."""
    return stack.ctl
