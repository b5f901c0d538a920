"""Database outage and restarts mid-cycle, on a PostgreSQL cluster of this test's own.

Stopped for a while in the middle of a cycle: the daemon stays up, ``irpctl status`` answers
and shows the outage, the log says so, and nothing new reaches Moody's (only submissions whose
intent was committed before the outage may still be sent); afterwards everything completes
with the usual end checks. Restarted (``pg_ctl restart``) several times: the same end checks.
"""

from __future__ import annotations

import random
import time
from datetime import datetime

import pytest

from tests.processes import eventually

from . import dbtools
from .conftest import ChaosRun, Processes
from .cycle import ChaosCycle
from .harness import Daemon, DaemonSettings, crashes, database_status
from .pgcluster import DedicatedPostgres
from .verdict import verdict, wait_settled

pytestmark = pytest.mark.chaos

OUTAGE_SECONDS = 8.0
#: submissions already handed to the HTTP client when the database went away may still land
IN_FLIGHT_GRACE = 3.0


def _reports_outage(daemon: Daemon) -> dict[str, object] | None:
    database = database_status(daemon)
    return database if database.get("available") is False else None


def test_database_outage_is_ridden_out(
    chaos: ChaosRun, procs: Processes, cluster: DedicatedPostgres
) -> None:
    seed = chaos.settings.seed
    rng = random.Random(seed + 1)
    dsn = cluster.new_database()
    fake = procs.fake(seed + 1)
    fake.set_faults([{"methods": ["POST"], "latency_seconds": 0.1, "seed": seed}])
    settings = DaemonSettings(
        dsn,
        fake.base_url,
        procs.workdir,
        extra_env={
            "IRPD_MOODYS_SUBMIT_CONCURRENCY": "4",
            "IRPD_ENGINE_DISPATCH_BATCH_SIZE": "20",
            "IRPD_ENGINE_LEASE_TTL": "4",
        },
    )
    daemon = procs.daemon(settings)
    cycle = ChaosCycle.create(settings.socket_path, fake, 50)
    first = cycle.add_round(4, 1, rng)
    cycle.submit(first)
    eventually(lambda: True if len(fake.ledger()) >= 20 else None, "submissions to start", 30)

    cluster.stop_server()
    outage_started = time.time()
    ledger_at_outage = len(fake.ledger())
    try:
        database = eventually(
            lambda: _reports_outage(daemon),
            "irpctl status to report the database unavailable",
            timeout=10,
        )
        time.sleep(max(0.0, outage_started + IN_FLIGHT_GRACE - time.time()))
        ledger_after_grace = len(fake.ledger())
        samples = [database]
        while time.time() < outage_started + OUTAGE_SECONDS:
            time.sleep(0.5)
            samples.append(database_status(daemon))
        assert daemon.running, f"irpd died during the outage:\n{crashes(daemon)}"
        ledger_at_end = len(fake.ledger())
    finally:
        outage_ended = time.time()
        cluster.start_server()

    assert ledger_at_end == ledger_after_grace, (
        f"{ledger_at_end - ledger_after_grace} submissions reached Moody's while the database "
        f"was down (after the {IN_FLIGHT_GRACE:g} s grace)"
    )
    late = _sent_without_committed_intent(dsn, fake.ledger(), outage_started, outage_ended)
    assert not late, f"sent during the outage without an intent committed before it: {late}"
    assert daemon.events("database_unavailable"), "the outage was not logged"
    during = samples[-1]
    time.sleep(1.0)
    assert daemon.running, f"irpd died when the database came back:\n{crashes(daemon)}"
    wait_settled(dsn, cycle.expected, timeout=90)
    recovered = database_status(daemon)
    assert recovered["available"] is True
    assert daemon.events("database_available"), "the recovery was not logged"
    found = verdict(dsn, fake, cycle)
    chaos.report(
        f"outage {outage_ended - outage_started:.1f} s; status during: "
        f"available={database['available']} outages={during.get('outages')} "
        f"last_error={str(during.get('last_error'))[:60]!r}; ledger grew "
        f"{ledger_after_grace - ledger_at_outage} within the grace, "
        f"{ledger_at_end - ledger_after_grace} after it"
    )
    chaos.report(found.describe())
    assert not found.problems, f"seed {seed}:\n" + "\n".join(found.problems[:50])
    assert daemon.running, f"irpd exited:\n{crashes(daemon)}"
    assert daemon.terminate() == 0


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _sent_without_committed_intent(
    dsn: str, ledger: list[dict[str, object]], start: float, end: float
) -> list[str]:
    """Ledger entries received during the outage whose job's intent is not older than it."""
    intents = {
        str(j["idempotency_key"]): j["submitting_ts"]
        for j in dbtools.jobs(dsn)
        if j["idempotency_key"] is not None
    }
    outage_start = datetime.fromtimestamp(start).astimezone()
    late: list[str] = []
    for entry in ledger:
        wall = float(str(entry["wallTime"]))
        if not start <= wall <= end or entry["replay"]:
            continue
        committed = intents.get(str(entry["requestId"]))
        if not isinstance(committed, datetime) or committed >= outage_start:
            late.append(f"{entry['name']} key={entry['requestId']} intent={committed}")
    return late


def test_status_shows_the_outage_for_as_long_as_it_lasts(
    chaos: ChaosRun, procs: Processes, cluster: DedicatedPostgres
) -> None:
    fake = procs.fake(chaos.settings.seed)
    settings = DaemonSettings(
        cluster.new_database(),
        fake.base_url,
        procs.workdir,
        extra_env={"IRPD_ENGINE_LEASE_TTL": "2"},
    )
    daemon = procs.daemon(settings)
    cluster.stop_server()
    outage_started = time.time()
    try:
        first = eventually(
            lambda: _reports_outage(daemon),
            "irpctl status to report the database unavailable",
            timeout=10,
        )
        samples = [first]
        while time.time() < outage_started + 5.0:
            time.sleep(0.5)
            samples.append(database_status(daemon))
    finally:
        outage_ended = time.time()
        cluster.start_server()
    shown_ok = [s for s in samples if s.get("available") is not False]
    flapped = [
        e["timestamp"]
        for e in daemon.events("database_available")
        if outage_started < _epoch(str(e["timestamp"])) < outage_ended - 0.5
    ]
    chaos.report(
        f"status samples during a 5 s outage: {len(samples)}, showing available: "
        f"{len(shown_ok)}; database_available logged during it: {len(flapped)}"
    )
    assert not shown_ok, (
        f"irpctl status showed the database available during the outage in "
        f"{len(shown_ok)} of {len(samples)} samples: {shown_ok[:2]}"
    )
    assert not flapped, f"database_available logged during the outage at {flapped[:5]}"


def test_database_restarts_mid_cycle_lose_nothing(
    chaos: ChaosRun, procs: Processes, cluster: DedicatedPostgres
) -> None:
    """``pg_ctl restart -m fast`` three times while a cycle runs: the same end checks."""
    seed = chaos.settings.seed
    rng = random.Random(seed + 4)
    dsn = cluster.new_database()
    fake = procs.fake(seed + 4)
    fake.set_faults([{"methods": ["POST"], "latency_seconds": 0.05, "seed": seed}])
    settings = DaemonSettings(
        dsn,
        fake.base_url,
        procs.workdir,
        extra_env={"IRPD_MOODYS_SUBMIT_CONCURRENCY": "4", "IRPD_ENGINE_DISPATCH_BATCH_SIZE": "20"},
    )
    daemon = procs.daemon(settings)
    cycle = ChaosCycle.create(settings.socket_path, fake, 50)
    cycle.submit(cycle.add_round(4, 2, rng))
    for _ in range(3):
        time.sleep(rng.uniform(0.5, 2.0))
        cluster.server.restart()
    time.sleep(1.0)
    assert daemon.running, f"irpd died when the database restarted:\n{crashes(daemon)}"
    wait_settled(dsn, cycle.expected, timeout=90)
    found = verdict(dsn, fake, cycle)
    chaos.report(f"3 restarts; {found.describe()}")
    assert not found.problems, f"seed {seed}:\n" + "\n".join(found.problems[:50])
    assert daemon.running, f"irpd exited:\n{crashes(daemon)}"
    assert daemon.terminate() == 0
