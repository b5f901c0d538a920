"""Operator storm (issue 11): concurrent resubmits, submits and cancels from several control
clients while the daemon submits and tracks a batch of a few hundred jobs, half of which
Moody's fails.

The daemon never exits, no answer is ``InternalError`` (deadlocks and serialization failures
are retried by the database layer), no supervised task crashes, and the fake's ledger holds
exactly one workflow per job that has one. ``IRPD_CHAOS_STORM_JOBS`` and
``IRPD_CHAOS_STORM_OPERATIONS`` make it longer (see scripts/chaos.sh).
"""

from __future__ import annotations

import random
import time

import pytest

from tests.processes import HarnessError

from . import checks, dbtools
from .conftest import ChaosRun, Processes
from .cycle import ChaosCycle
from .harness import Daemon, DaemonSettings, call
from .settings import storm_timeout
from .storm import run_storm

pytestmark = pytest.mark.chaos

CLIENTS = 3
#: the fake's options of the issue's reproduction: half the workflows fail, 30 simulated
#: minutes per real second
FAKE_ARGS = ("--failure-rate", "0.5", "--time-scale", "1800")


def _crashes(daemon: Daemon) -> list[str]:
    """Every crash the daemon logged, with the last line of its traceback."""
    found = daemon.events("task_crashed", "control_command_crashed")
    return [
        f"{e['event']} {e.get('task') or e.get('command')}: "
        f"{str(e.get('exception', '')).strip().splitlines()[-6:]}"
        for e in found
    ]


def _wait_idle(dsn: str, daemon: Daemon, timeout: float) -> None:
    """Until no job is queued, being submitted, in flight or cancelling."""
    deadline = time.monotonic() + timeout
    while True:
        if not daemon.running:
            raise HarnessError(f"the daemon exited: {_crashes(daemon)}")
        busy = dbtools.fetch(
            dsn, "SELECT count(*) AS n FROM irp_job WHERE engine_phase IS NOT NULL"
        )[0]["n"]
        if not busy:
            return
        if time.monotonic() > deadline:
            raise HarnessError(f"{busy} jobs still have engine work after {timeout:g} s")
        time.sleep(0.3)


@pytest.mark.timeout(storm_timeout())
def test_operator_storm_never_crashes_the_daemon(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    seed = chaos.settings.seed
    fake = procs.fake(seed + 5, args=FAKE_ARGS)
    settings = DaemonSettings(db_dsn, fake.base_url, procs.workdir)
    daemon = procs.daemon(settings)
    jobs = chaos.settings.storm_jobs
    cycle = ChaosCycle.create(settings.socket_path, fake, jobs)
    made = cycle.add_round(1, 0, random.Random(seed))
    batch_id = made.batch_ids[0]
    call(settings.socket_path, "batch.submit", batch_id=batch_id)

    tally = run_storm(
        settings.socket_path,
        batch_id,
        clients=CLIENTS,
        operations=chaos.settings.storm_operations,
        seed=seed,
    )
    assert daemon.running, f"the daemon exited during the storm: {_crashes(daemon)}"
    _wait_idle(db_dsn, daemon, timeout=storm_timeout() / 2)

    all_jobs = dbtools.jobs(db_dsn)
    problems = checks.ledger_problems(fake.ledger(), all_jobs)
    crashed = _crashes(daemon)
    retried = daemon.events("db_conflict_retried")
    chaos.report(
        f"{jobs} jobs + {len(all_jobs) - jobs} resubmitted, {CLIENTS} clients: "
        f"{tally.describe()}; conflicts retried: {len(retried)}"
    )
    chaos.report(f"first refusals: {sorted(v for v in tally.samples.values() if v)[:8]}")
    assert not tally.internal_errors, tally.internal_errors[:10]
    assert not crashed, crashed[:5]
    assert ("connection", "lost") not in tally.answers
    assert not problems, f"seed {seed}:\n" + "\n".join(problems[:50])
    assert daemon.running
    assert daemon.terminate() == 0
