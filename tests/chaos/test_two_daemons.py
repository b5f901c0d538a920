"""Two daemons on one database share the shards; one is SIGKILLed mid-cycle.

The survivor takes the dead one's shards over within ``lease_ttl`` plus one renewal interval
(measured from the kill on ``irp_shard``), the cycle completes with the usual end checks, and
no job was ever worked by both: per job, the daemons' logged transitions form at most three
runs (A, then B after the rebalance, then A after the takeover), never A-B-A-B.
"""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest

from tests.processes import eventually

from . import checks, dbtools
from .conftest import ChaosRun, Processes
from .cycle import ChaosCycle
from .harness import Daemon, DaemonSettings
from .verdict import verdict, wait_settled

pytestmark = pytest.mark.chaos

LEASE_TTL = 3.0
#: the survivor claims expired shards on its next renewal round (every ttl / 3)
TAKEOVER_BOUND = LEASE_TTL + LEASE_TTL / 3
#: process scheduling on a loaded CI machine
SLACK = 2.0


def _owners(dsn: str) -> Counter[str | None]:
    return Counter(str(s["owner_worker_id"]) if s["live"] else None for s in dbtools.shards(dsn))


def test_two_daemons_one_killed_never_share_a_job(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    seed = chaos.settings.seed
    rng = random.Random(seed + 3)
    fake = procs.fake(seed + 3)
    fake.set_faults([{"methods": ["POST"], "latency_seconds": 0.1, "seed": seed}])
    env = {
        "IRPD_ENGINE_LEASE_TTL": str(LEASE_TTL),
        "IRPD_MOODYS_SUBMIT_CONCURRENCY": "4",
        "IRPD_ENGINE_DISPATCH_BATCH_SIZE": "20",
    }
    settings = {
        name: DaemonSettings(
            db_dsn, fake.base_url, procs.workdir / name, worker_id=f"chaos-{name}", extra_env=env
        )
        for name in ("a", "b")
    }
    for each in settings.values():
        each.workdir.mkdir()
    survivor = procs.daemon(settings["a"], "a")
    cycle = ChaosCycle.create(settings["a"].socket_path, fake, 60)
    made = cycle.add_round(5, 2, rng)
    victim = procs.daemon(settings["b"], "b")
    eventually(
        lambda: True if _owners(db_dsn) == {"chaos-a": 32, "chaos-b": 32} else None,
        "the daemons to share the shards evenly",
        timeout=20,
    )
    cycle.submit(made)
    eventually(lambda: True if len(fake.ledger()) >= 100 else None, "submissions", 60)

    victim_shards = {
        int(s["shard"]) for s in dbtools.shards(db_dsn) if s["owner_worker_id"] == "chaos-b"
    }
    victim.kill()
    killed_at = time.monotonic()
    eventually(
        lambda: True if _owners(db_dsn) == {"chaos-a": 64} else None,
        "the survivor to take every shard over",
        timeout=TAKEOVER_BOUND + SLACK + 10,
    )
    takeover = time.monotonic() - killed_at

    wait_settled(db_dsn, cycle.expected, timeout=90)
    found = verdict(db_dsn, fake, cycle)
    touches = checks.touches("a", survivor.events("job_transitioned")) + checks.touches(
        "b", victim.events("job_transitioned")
    )
    interleaved = checks.interleaving_problems(touches, max_handovers=2)
    first_on_victim_shards = _first_survivor_touch(survivor, victim, victim_shards)
    chaos.report(
        f"takeover of {len(victim_shards)} shards in {takeover:.2f} s (bound "
        f"{TAKEOVER_BOUND:g} s + {SLACK:g} s slack); survivor's first transition on them "
        f"{first_on_victim_shards} after the kill; transitions logged: "
        f"{Counter(t.worker for t in touches)}"
    )
    chaos.report(found.describe())
    problems = list(found.problems) + interleaved
    assert not problems, f"seed {seed}:\n" + "\n".join(problems[:50])
    assert takeover <= TAKEOVER_BOUND + SLACK, (
        f"takeover took {takeover:.2f} s, bound {TAKEOVER_BOUND:g} s (+{SLACK:g} s slack)"
    )
    assert survivor.terminate() == 0


def _first_survivor_touch(survivor: Daemon, victim: Daemon, shards: set[int]) -> str:
    """Seconds from the kill to the survivor's first logged transition on the victim's
    shards (``job id % 64``), for the report."""
    assert victim.killed_at is not None
    times = [
        t.at.timestamp() - victim.killed_at
        for t in checks.touches("a", survivor.events("job_transitioned"))
        if t.job_id % 64 in shards and t.at.timestamp() > victim.killed_at
    ]
    return f"{min(times):.2f} s" if times else "never (no work left there)"
