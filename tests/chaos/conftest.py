"""Fixtures of the chaos suite: the run's seed and counts, a short work directory, and a
registry of the processes a test starts (all stopped on teardown; logs printed on failure).

``IRPD_CHAOS_SEED`` replays a run; ``IRPD_CHAOS_KILLS``, ``IRPD_CHAOS_SOAK_JOBS`` and
``IRPD_CHAOS_FUZZ_EXAMPLES`` raise the counts (see scripts/chaos.sh). The seed, the counts and
each scenario's figures are printed in the terminal summary (tests/conftest.py gathers them
from the test reports, so they show with pytest-xdist too, where every worker gets the
controller's seed).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import pytest

from tests.conftest import FIGURE, shared_seed

from .harness import Daemon, DaemonSettings, FakeServer
from .pgcluster import DedicatedPostgres
from .settings import ChaosSettings, chaos_settings

_FAILED = pytest.StashKey[bool]()
_SETTINGS = pytest.StashKey[ChaosSettings]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Remember whether a test failed (teardown prints the processes' logs then)."""
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


class ChaosRun:
    """The run's settings and a place to report figures."""

    def __init__(self, settings: ChaosSettings, node: pytest.Item) -> None:
        self.settings = settings
        self._node = node

    def report(self, line: str) -> None:
        """Add a line to the terminal summary (and print it for ``-s``)."""
        text = f"{self._node.name}: {line}"
        print(text)
        self._node.user_properties.append((FIGURE, text))


@pytest.fixture
def chaos(request: pytest.FixtureRequest) -> ChaosRun:
    """This run's seed and counts."""
    stash = request.config.stash
    if _SETTINGS not in stash:
        stash[_SETTINGS] = chaos_settings(shared_seed(request.config))
    settings = stash[_SETTINGS]
    request.node.user_properties.append((FIGURE, f"run: {settings.describe()}"))
    return ChaosRun(settings, request.node)


class Processes:
    """Every fake and daemon a test started; all are stopped on teardown."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.fakes: list[FakeServer] = []
        self.daemons: list[Daemon] = []

    def fake(
        self, seed: int, *, api_keys: Sequence[str] | None = None, args: Sequence[str] = ()
    ) -> FakeServer:
        """Start a fake Moody's server."""
        if api_keys is None:
            server = FakeServer.start(self.workdir, seed, extra_args=args)
        else:
            server = FakeServer.start(self.workdir, seed, api_keys=api_keys, extra_args=args)
        self.fakes.append(server)
        return server

    def daemon(self, settings: DaemonSettings, name: str | None = None) -> Daemon:
        """Start ``irpd run`` and wait until it answers."""
        daemon = Daemon(settings, name or f"irpd-{len(self.daemons) + 1}")
        self.daemons.append(daemon)
        daemon.wait_ready()
        return daemon

    def logs(self) -> str:
        """Every daemon's output tail, for a failure report."""
        return "\n".join(
            f"=== {d.log_path} (exit {d.proc.poll()}) ===\n{d.log_tail(60)}" for d in self.daemons
        )

    def stop_all(self) -> None:
        """SIGKILL daemons left running, stop the fakes."""
        for daemon in self.daemons:
            daemon.kill()
        for fake in self.fakes:
            fake.stop()


@pytest.fixture
def workdir() -> Iterator[Path]:
    """A short directory under /tmp (the control socket path must fit in 108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="chaos-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def procs(request: pytest.FixtureRequest, workdir: Path) -> Iterator[Processes]:
    """The test's processes; their logs are printed when the test failed."""
    registry = Processes(workdir)
    try:
        yield registry
    finally:
        registry.stop_all()
        if request.node.stash.get(_FAILED, False):
            print(registry.logs())


@pytest.fixture
def cluster(workdir: Path) -> Iterator[DedicatedPostgres]:
    """This test's own PostgreSQL (skipped with an external IRPD_TEST_DSN server)."""
    if os.environ.get("IRPD_TEST_DSN"):
        pytest.skip("stopping an external PostgreSQL is not safe; runs on the embedded one")
    pg = DedicatedPostgres(workdir / "pg")
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()
        shutil.rmtree(workdir / "pg", ignore_errors=True)
