"""Fault soak: the fake Moody's with every fault mixed in at significant rates — 5xx, 429 with
and without ``Retry-After``, HTML gateway pages, hangs, connections dropped after a recorded
submission, malformed and truncated JSON, 204 "not ready" — while a cycle runs.

Every job still reaches the right terminal status with the usual end checks, and no request
arrives inside a ``Retry-After`` window. First, a permanent refusal (400 on every POST) must
turn the jobs it hits into ERROR with the reason, each sent once: no endless retry.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from . import dbtools
from .conftest import ChaosRun, Processes
from .cycle import ChaosCycle
from .harness import DaemonSettings
from .settings import soak_timeout
from .verdict import verdict, wait_settled

pytestmark = pytest.mark.chaos

JOBS_PER_BATCH = 50


def soak_rules(seed: int) -> list[dict[str, object]]:
    """Every fault at once (exclusive rates add up to 0.32), plus latency. (Each 429 halves
    the client's request rate and successes win it back slowly, so 429s are kept rarer.)"""
    return [
        {
            "seed": seed,
            "error_rate": 0.06,
            "error_statuses": [500, 502, 503],
            "rate_limit_rate": 0.015,
            "retry_after_seconds": 0.5,
            "rate_limit_bare_rate": 0.015,
            "html_error_rate": 0.03,
            "hang_rate": 0.02,
            "hang_seconds": 4.0,
            "drop_after_record_rate": 0.06,
            "malformed_json_rate": 0.04,
            "truncated_json_rate": 0.04,
            "not_ready_rate": 0.04,
            "latency_seconds": 0.05,
            "latency_rate": 0.2,
        }
    ]


@pytest.mark.timeout(soak_timeout())
def test_fault_soak_every_job_settles_right(
    chaos: ChaosRun, db_dsn: str, procs: Processes
) -> None:
    seed = chaos.settings.seed
    rng = random.Random(seed + 2)
    fake = procs.fake(seed + 2)
    settings = DaemonSettings(
        db_dsn,
        fake.base_url,
        procs.workdir,
        extra_env={
            "IRPD_MOODYS_REQUEST_TIMEOUT": "1.5",
            "IRPD_MOODYS_CONNECT_TIMEOUT": "1",
            "IRPD_MOODYS_MAX_RETRY_SECONDS": "20",
        },
    )
    daemon = procs.daemon(settings)
    cycle = ChaosCycle.create(settings.socket_path, fake, JOBS_PER_BATCH)

    fake.set_faults([{"methods": ["POST"], "error_rate": 1.0, "error_statuses": [400]}])
    refused = cycle.add_round(1, 0, rng, expected_status="FAILED")
    cycle.submit(refused)
    wait_settled(db_dsn, refused.batch_ids, timeout=60)
    refused_jobs = [j for j in dbtools.jobs(db_dsn) if j["batch_id"] in refused.batch_ids]
    sends = Counter(
        str(r["requestId"]) for r in fake.request_log()["requests"] if r["method"] == "POST"
    )
    resent = {j["id"]: sends[str(j["idempotency_key"])] for j in refused_jobs
              if sends[str(j["idempotency_key"])] != 1}
    assert not resent, f"a permanently refused submission was sent again: {resent}"
    unexplained = [(j["id"], j["status"], j["last_error"]) for j in refused_jobs
                   if j["status"] != "ERROR" or "400" not in str(j["last_error"])]
    assert not unexplained, f"refused jobs not ERROR with the reason: {unexplained[:5]}"

    fake.set_faults(soak_rules(seed))
    batches = max(1, chaos.settings.soak_jobs // JOBS_PER_BATCH)
    soak = cycle.add_round(batches, max(1, batches // 2), rng)
    cycle.submit(soak)
    wait_settled(db_dsn, cycle.expected, timeout=soak_timeout() - 30)
    found = verdict(
        db_dsn, fake, cycle, expected_errors=[j["id"] for j in refused_jobs], retry_after=True
    )
    chaos.report(
        f"refused phase: {len(refused_jobs)} jobs ERROR, each sent once; soak: "
        f"{len(soak.job_ids)} jobs in {batches} batches"
    )
    chaos.report(found.describe())
    assert not found.problems, f"seed {seed}:\n" + "\n".join(found.problems[:50])
    assert daemon.running
    assert daemon.terminate() == 0
