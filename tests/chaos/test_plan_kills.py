"""kill -9 during a plan run: the sample cycle runs by ``cycle.run`` (the default plan) while
the daemon is SIGKILLed at random moments and restarted. At the end the plan is COMPLETED,
every step has exactly one batch (no step's batch created twice, no step lost), and the chaos
suite's end checks hold: one workflow per job, every job terminal, unbroken tracking chains.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from irpd.samples import sample_path

from . import checks, dbtools
from .conftest import ChaosRun, Processes
from .harness import DaemonSettings, call, irpctl

pytestmark = pytest.mark.chaos

CYCLE = "chaos-plan"
#: kills in a CI run (IRPD_CHAOS_KILLS raises it with the other kill scenarios)
MIN_KILLS = 6


def _plan(socket_path: Path) -> dict[str, Any]:
    result: dict[str, Any] = call(socket_path, "cycle.status", cycle=CYCLE)
    return result


def _ctl(socket_path: Path, *args: str | Path) -> None:
    done = irpctl(socket_path, *args)
    assert done.rc == 0, done


@pytest.mark.timeout(600)
def test_kills_during_a_plan_run_never_create_a_steps_batch_twice(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    seed = chaos.settings.seed
    rng = random.Random(seed)
    fake = procs.fake(seed)
    fake.set_faults([{"methods": ["POST"], "latency_seconds": 0.1, "seed": seed}])
    settings = DaemonSettings(db_dsn, fake.base_url, procs.workdir)
    daemon = procs.daemon(settings, "irpd-1")
    socket_path = settings.socket_path
    _ctl(socket_path, "cycle", "create", CYCLE)
    _ctl(socket_path, "config", "load", sample_path(), "--cycle", CYCLE)
    _ctl(socket_path, "cycle", "run", CYCLE)

    kills = max(MIN_KILLS, chaos.settings.kills // 4)
    done = 0
    for kill in range(1, kills + 1):
        time.sleep(rng.uniform(0.2, 3.0))
        daemon.kill()
        done = kill
        daemon = procs.daemon(settings, f"irpd-{kill + 1}")
        if _plan(socket_path)["status"] == "COMPLETED":
            break

    deadline = time.monotonic() + 300
    while (status := _plan(socket_path))["status"] != "COMPLETED":
        assert time.monotonic() < deadline, f"plan not COMPLETED: {status}"
        time.sleep(0.5)

    steps = status["steps"]
    assert {s["status"] for s in steps} == {"COMPLETED"}, steps
    batches = dbtools.batches(db_dsn)
    per_type = Counter(str(b["batch_type"]) for b in batches)
    assert {t: n for t, n in per_type.items() if n != 1} == {}, per_type
    assert sorted(int(s["batch_id"]) for s in steps) == sorted(int(b["id"]) for b in batches)

    jobs = dbtools.jobs(db_dsn)
    workflow_ids = [str(j["moodys_workflow_id"]) for j in jobs if j["moodys_workflow_id"]]
    # The sample's Moody's operations name some workflows themselves (every RDM export into one
    # RDM is "EXPORT_RDM <rdm>"), so the by-name rules of the generic scenarios do not apply;
    # one workflow per idempotency key, each held by exactly one job, no orphans still do.
    problems = [
        p
        for p in checks.ledger_problems(fake.ledger(), jobs)
        if not p.startswith(("workflow name ", "workflows named after no job"))
    ]
    problems += checks.terminal_problems(jobs)
    problems += checks.tracking_problems(
        jobs, dbtools.tracking_log(db_dsn), fake.workflow_statuses(workflow_ids)
    )
    problems += [f"job {j['id']} is {j['status']}" for j in jobs if j["status"] != "FINISHED"]
    chaos.report(
        f"plan kills: seed={seed} kills={done} batches={len(batches)} jobs={len(jobs)} "
        f"problems={len(problems)}"
    )
    assert not problems, "\n".join(problems[:50])
    assert daemon.terminate() == 0
