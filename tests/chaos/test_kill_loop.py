"""kill -9 loop: a real ``irpd run`` drives a cycle of a few hundred jobs against the fake
Moody's and is SIGKILLed at random moments, many times, and restarted each time.

POSTs are slowed (the daemon is reliably inside the HTTP call) and the submission concurrency
is low (committed intents queue behind it), so kills land between the intent commit and the
HTTP call; some POSTs are answered by dropping the connection after the fake recorded the
workflow, so kills land between Moody's answer and its commit. When a round settles before
the kills are done, another round of batches is submitted. At the end: one workflow per job
and none without a job, every job terminal, batches as scripted, and every status change in
the tracking log exactly once.
"""

from __future__ import annotations

import random
import time

import pytest

from . import dbtools
from .census import KillCensus
from .conftest import ChaosRun, Processes
from .cycle import ChaosCycle
from .harness import DaemonSettings
from .settings import kill_loop_timeout
from .verdict import TERMINAL_BATCH, verdict, wait_settled

pytestmark = pytest.mark.chaos

JOBS_PER_BATCH = 60
FIRST_ROUND_BATCHES = 5
LATER_ROUND_BATCHES = 3


@pytest.mark.timeout(kill_loop_timeout())
def test_sigkill_loop_loses_and_duplicates_nothing(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    seed = chaos.settings.seed
    rng = random.Random(seed)
    fake = procs.fake(seed)
    fake.set_faults(
        [{"methods": ["POST"], "latency_seconds": 0.1, "drop_after_record_rate": 0.1,
          "seed": seed}]
    )
    settings = DaemonSettings(
        db_dsn,
        fake.base_url,
        procs.workdir,
        extra_env={
            "IRPD_MOODYS_SUBMIT_CONCURRENCY": "4",
            "IRPD_ENGINE_DISPATCH_BATCH_SIZE": "40",
        },
    )
    daemon = procs.daemon(settings, "irpd-1")
    cycle = ChaosCycle.create(settings.socket_path, fake, JOBS_PER_BATCH)
    latest = cycle.add_round(FIRST_ROUND_BATCHES, 2, rng)
    cycle.submit(latest)
    census = KillCensus()
    for kill in range(1, chaos.settings.kills + 1):
        statuses = {int(b["id"]): b["status"] for b in dbtools.batches(db_dsn)}
        if all(statuses[b] in TERMINAL_BATCH for b in latest.batch_ids):
            latest = cycle.add_round(LATER_ROUND_BATCHES, 1, rng)
            cycle.submit(latest)
        time.sleep(rng.uniform(0.2, 2.0))
        daemon.kill()
        census.record(dbtools.jobs(db_dsn), fake.ledger(), fake.request_log())
        daemon = procs.daemon(settings, f"irpd-{kill + 1}")
    wait_settled(db_dsn, cycle.expected, timeout=90)
    found = verdict(db_dsn, fake, cycle)
    chaos.report(f"seed={seed} rounds={len(cycle.rounds)} {census.describe()}")
    chaos.report(found.describe())
    assert not found.problems, (
        f"seed {seed}: {len(found.problems)} broken promises after {census.kills} kills:\n"
        + "\n".join(found.problems[:50])
    )
    if census.kills >= 10:
        assert census.kills_in_submit_window, "no kill landed between intent commit and answer"
        assert census.kills_after_answer, "no kill landed between Moody's answer and its commit"
    assert daemon.terminate() == 0
