"""Bad database days, on PostgreSQL clusters of the tests' own (never the shared server).

- Start-up with the database down, then with every connection slot taken: ``irpd run`` keeps
  running, tells systemd why (``STATUS=waiting for the database: …``) and keeps the watchdog
  fed, and becomes ready once the database answers.
- Failover: a streaming-replication standby (``pg_basebackup -R``) is promoted after the
  primary stops, in the middle of a cycle; the daemon, on a multi-host DSN, stays up and the
  cycle finishes with the end checks holding (one workflow per job, every job terminal,
  unbroken tracking-log chains).
- A read-only switch (``ALTER DATABASE … SET default_transaction_read_only``, sessions
  terminated) and a revoked privilege (``REVOKE UPDATE ON irp_job``) mid-cycle: the daemon
  stays up, ``irpctl status`` shows the state (and the SQLSTATE), and the cycle finishes once
  it is fixed, with nothing lost.

``IRPD_CHAOS_DB_DOWN_SECONDS`` (default 4; ``scripts/chaos.sh``: 20) is how long each
trouble lasts.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from irpd.db.provision import database_of, with_database
from tests.processes import eventually
from tests.unit.test_systemd_notify import FakeServiceManager

from .conftest import ChaosRun, Processes
from .cycle import ChaosCycle
from .harness import Daemon, DaemonSettings, FakeServer, crashes, database_status
from .pgcluster import DedicatedPostgres, connections_held, multi_host, run_sql
from .verdict import verdict, wait_settled

pytestmark = pytest.mark.chaos

#: how long each trouble lasts (seconds)
TROUBLE_SECONDS = float(os.environ.get("IRPD_CHAOS_DB_DOWN_SECONDS", "").strip() or 4)
#: the role the daemon connects as: not a superuser, so privileges and slots apply to it
APP_ROLE = "irpd_app"
#: with this max_connections (3 reserved for superusers), the test can take every slot
MAX_CONNECTIONS = 12
#: jobs per batch of the mid-cycle scenarios (rounds of 3 batches)
JOBS_PER_BATCH = 30
#: small, steady submissions: the cycle is still running when the trouble starts
CYCLE_ENV = {
    "IRPD_MOODYS_SUBMIT_CONCURRENCY": "4",
    "IRPD_ENGINE_DISPATCH_BATCH_SIZE": "20",
    "IRPD_ENGINE_LEASE_TTL": "4",
    "IRPD_DATABASE_POOL_MAX_SIZE": "4",
    "IRPD_DATABASE_CONNECT_RETRY_MAX": "1",
}


@pytest.fixture
def manager(workdir: Path) -> Iterator[FakeServiceManager]:
    """systemd's end of ``$NOTIFY_SOCKET`` for the daemon under test."""
    fake = FakeServiceManager(str(workdir / "notify.sock"))
    yield fake
    fake.close()


def _epoch(timestamp: object) -> float:
    return datetime.fromisoformat(str(timestamp).replace("Z", "+00:00")).timestamp()


def _while_it_lasts(daemon: Daemon, until: float) -> list[dict[str, object]]:
    """``irpctl status`` (database part) every half second until ``until``; the daemon must
    keep running and answering."""
    samples = []
    while time.time() < until:
        assert daemon.running, f"irpd exited:\n{crashes(daemon)}\n{daemon.log_tail(30)}"
        samples.append(database_status(daemon))
        time.sleep(0.5)
    return samples


def _slow_cycle(procs: Processes, dsn: str, seed: int) -> tuple[FakeServer, Daemon, ChaosCycle]:
    """A fake whose POSTs take 0.1 s, a daemon on ``dsn``, and a cycle to add rounds to."""
    fake = procs.fake(seed)
    fake.set_faults([{"methods": ["POST"], "latency_seconds": 0.1, "seed": seed}])
    settings = DaemonSettings(dsn, fake.base_url, procs.workdir, extra_env=CYCLE_ENV)
    daemon = procs.daemon(settings)
    return fake, daemon, ChaosCycle.create(settings.socket_path, fake, JOBS_PER_BATCH)


def _round_under_way(cycle: ChaosCycle, rng: random.Random) -> None:
    """Submit a round of 3 batches (one with scripted failures); return once 10 of its
    submissions reached the fake."""
    before = len(cycle.fake.ledger())
    cycle.submit(cycle.add_round(3, 1, rng))
    eventually(lambda: True if len(cycle.fake.ledger()) >= before + 10 else None, "submissions", 30)


def test_start_up_waits_for_the_database(
    chaos: ChaosRun, cluster: DedicatedPostgres, procs: Processes, manager: FakeServiceManager
) -> None:
    dsn = cluster.new_database(owner=APP_ROLE)
    run_sql(cluster.admin_dsn, f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}")
    cluster.server.restart()
    fake = procs.fake(chaos.settings.seed)
    env = {"NOTIFY_SOCKET": manager.address, "WATCHDOG_USEC": "2000000", **CYCLE_ENV}
    settings = DaemonSettings(dsn, fake.base_url, procs.workdir, extra_env=env)
    seen: list[dict[str, str]] = []

    def waits(daemon: Daemon, until: float, cause: str) -> None:
        eventually(
            lambda: (
                [e for e in daemon.events("database_waiting") if cause in str(e["error"])] or None
            ),
            f"database_waiting for {cause}",
            30,
        )
        while time.time() < until:
            assert daemon.running, f"irpd exited while waiting:\n{daemon.log_tail()}"
            seen.extend(manager.pending())
            time.sleep(0.5)

    # 1. every connection slot irpd could use is taken
    with connections_held(cluster.admin_dsn, MAX_CONNECTIONS - 3) as held:
        daemon = Daemon(settings, "irpd-1")
        procs.daemons.append(daemon)
        started = time.time()
        waits(daemon, started + TROUBLE_SECONDS / 2, "TooManyConnections")
        # 2. the server goes down (and the connections that took the slots with it)
        cluster.stop_server()
    stopped = time.time()
    waits(daemon, stopped + TROUBLE_SECONDS, "FileNotFound")
    before_ready = seen + manager.pending()

    # 3. it answers: ready
    cluster.start_server()
    up = time.time()
    daemon.wait_ready()
    reached = daemon.events("database_reached")
    assert reached, daemon.log_tail()
    statuses = [m["STATUS"] for m in before_ready if "STATUS" in m]
    assert statuses, before_ready
    assert all(s.startswith("waiting for the database: ") for s in statuses), statuses
    assert any("TooManyConnections" in s for s in statuses), statuses
    assert any("WATCHDOG" in m for m in before_ready), "no watchdog pings while waiting"
    assert any("EXTEND_TIMEOUT_USEC" in m for m in before_ready), before_ready
    assert not any("READY" in m for m in before_ready), "READY=1 before the database answered"
    ready = eventually(
        lambda: next((m for m in manager.pending() if "READY" in m), None), "READY=1", 30
    )
    assert ready["STATUS"].startswith("db ok"), ready
    assert database_status(daemon)["available"] is True

    rng = random.Random(chaos.settings.seed)
    cycle = ChaosCycle.create(settings.socket_path, fake, 10)
    cycle.submit(cycle.add_round(2, 0, rng))
    wait_settled(dsn, cycle.expected, timeout=90)
    found = verdict(dsn, fake, cycle)
    chaos.report(
        f"{held} slots taken for {stopped - started:.1f} s, then down for {up - stopped:.1f} s; "
        f"ready {_epoch(reached[0]['timestamp']) - up:.1f} s after the server was back "
        f"({reached[0]['attempts']} attempts); while waiting: {len(statuses)} STATUS, "
        f"{sum('WATCHDOG' in m for m in before_ready)} WATCHDOG; {found.describe()}"
    )
    assert not found.problems, "\n".join(found.problems[:50])
    assert daemon.terminate() == 0


def test_failover_to_a_promoted_standby_mid_cycle(
    chaos: ChaosRun, cluster: DedicatedPostgres, procs: Processes, workdir: Path
) -> None:
    seed = chaos.settings.seed
    rng = random.Random(seed + 7)
    primary_dsn = cluster.new_database()
    standby = cluster.standby(workdir / "standby")
    try:
        dsn = multi_host(database_of(primary_dsn), cluster.socket_dir, standby.socket_dir)
        fake, daemon, cycle = _slow_cycle(procs, dsn, seed + 7)
        _round_under_way(cycle, rng)

        cluster.stop_server()  # the primary is gone; the standby refuses read-write sessions
        stopped = time.time()
        outage = eventually(
            lambda: s if (s := database_status(daemon)).get("available") is False else None,
            "irpctl status to show the database unavailable",
            30,
        )
        _while_it_lasts(daemon, stopped + TROUBLE_SECONDS / 2)
        promoting = time.time()
        standby.promote()
        back = eventually(
            lambda: (
                [
                    e
                    for e in daemon.events("database_available")
                    if _epoch(e["timestamp"]) >= promoting
                ]
                or None
            ),
            "database_available after the promotion",
            60,
        )
        wait_settled(dsn, cycle.expected, timeout=120)
        found = verdict(dsn, fake, cycle)
        chaos.report(
            f"primary stopped, standby promoted {promoting - stopped:.1f} s later; status during: "
            f"reason={outage.get('reason')} error={str(outage.get('last_error'))[:70]!r}; "
            f"writing again {_epoch(back[0]['timestamp']) - promoting:.1f} s after "
            f"pg_ctl promote began; {found.describe()}"
        )
        assert not found.problems, f"seed {seed}:\n" + "\n".join(found.problems[:50])
        assert not daemon.events("task_crashed"), crashes(daemon)
        assert daemon.terminate() == 0
    finally:
        standby.stop()


def test_read_only_switch_and_revoked_privilege_mid_cycle(
    chaos: ChaosRun, cluster: DedicatedPostgres, procs: Processes
) -> None:
    seed = chaos.settings.seed
    rng = random.Random(seed + 8)
    dsn = cluster.new_database(owner=APP_ROLE)
    name = database_of(dsn)
    as_owner = with_database(cluster.admin_dsn, name)  # superuser, in the daemon's database
    fake, daemon, cycle = _slow_cycle(procs, dsn, seed + 8)

    # 1. the database turns read-only (what a demoted primary looks like)
    _round_under_way(cycle, rng)
    run_sql(
        cluster.admin_dsn,
        f"ALTER DATABASE {name} SET default_transaction_read_only = on",
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{APP_ROLE}'",
    )
    switched = time.time()
    read_only = eventually(
        lambda: s if (s := database_status(daemon)).get("reason") == "read_only" else None,
        "irpctl status to show the database read-only",
        30,
    )
    samples = _while_it_lasts(daemon, switched + TROUBLE_SECONDS)
    run_sql(cluster.admin_dsn, f"ALTER DATABASE {name} RESET default_transaction_read_only")
    eventually(lambda: database_status(daemon).get("available") or None, "writable again", 60)
    shown_ok = [s for s in samples if s.get("available") is not False]

    # 2. a privilege is revoked while the next round runs
    _round_under_way(cycle, rng)
    run_sql(as_owner, f"REVOKE UPDATE ON irp_job FROM {APP_ROLE}")
    revoked = time.time()
    degraded = eventually(
        lambda: s if (s := database_status(daemon)).get("state") == "degraded" else None,
        "irpctl status to show the database degraded",
        30,
    )
    refused = degraded["degraded"]
    assert isinstance(refused, list)
    assert {d["sqlstate"] for d in refused} == {"42501"}, refused
    _while_it_lasts(daemon, revoked + TROUBLE_SECONDS / 2)
    daemon.proc.send_signal(signal.SIGHUP)  # systemctl reload: retried at once, still refused
    eventually(lambda: daemon.events("database_degradation_reset") or None, "reset", 30)
    eventually(
        lambda: True if len(daemon.events("database_degraded")) >= 2 else None, "re-alert", 30
    )
    _while_it_lasts(daemon, revoked + TROUBLE_SECONDS)
    run_sql(as_owner, f"GRANT UPDATE ON irp_job TO {APP_ROLE}")
    granted = time.time()

    wait_settled(dsn, cycle.expected, timeout=120)
    cleared = daemon.events("database_degradation_cleared")
    found = verdict(dsn, fake, cycle)
    alerts = daemon.events("database_degraded")
    chaos.report(
        f"read-only {TROUBLE_SECONDS:g} s: status reason={read_only.get('reason')} "
        f"sqlstate={read_only.get('sqlstate')}, {len(samples)} samples, "
        f"{len(shown_ok)} showing available; privilege revoked {granted - revoked:.1f} s: "
        f"degraded {[d['query'] for d in refused]}, {len(alerts)} alerts (one after SIGHUP), "
        f"cleared {len(cleared)} statements; {found.describe()}"
    )
    assert not shown_ok, shown_ok[:2]
    assert cleared, "the degradation never cleared"
    assert database_status(daemon)["state"] == "ok"
    assert not found.problems, f"seed {seed}:\n" + "\n".join(found.problems[:50])
    assert not daemon.events("task_crashed"), crashes(daemon)
    assert daemon.running
    assert daemon.terminate() == 0
