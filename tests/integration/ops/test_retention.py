"""Retention: an archived cycle is exported, purged in bounded transactions and imported back
exactly; the ACTIVE cycle (and anything live) is never touched; refusals delete nothing."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from irpd.db.database import Database
from irpd.errors import CycleError
from irpd.ops import Operations, listings, retention

from .support import Daemon, job_ids, register_jobs, run_to

# every irp_* table's rows as text, in a stable order; live counts without their zero rows
# (a status that emptied leaves an n = 0 row that an import has no reason to recreate)
DIGEST = """
SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) FROM {table} x {where}
"""
TABLES = {
    **dict.fromkeys(retention.TABLES, ""),
    "irp_batch_job_count": "WHERE n <> 0",
    "irp_batch_config_count": "WHERE n <> 0",
}
# the rows of the cycle named $1 (to show that purging another cycle leaves them alone)
CYCLE_ROWS = """
WITH c AS (SELECT id FROM irp_cycle WHERE cycle_name = $1),
     b AS (SELECT b.id FROM irp_batch b JOIN irp_configuration cf ON cf.id = b.configuration_id
            WHERE cf.cycle_id IN (SELECT id FROM c)),
     j AS (SELECT * FROM irp_job WHERE batch_id IN (SELECT id FROM b))
SELECT md5(concat_ws('|',
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM irp_cycle x WHERE id IN (SELECT id FROM c)),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM irp_batch x WHERE id IN (SELECT id FROM b)),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM j x),
    (SELECT string_agg(x::text, ',' ORDER BY x.id) FROM irp_job_tracking_log x
      WHERE job_id IN (SELECT id FROM j))))
"""


async def _digest(dsn: str) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            table: await conn.fetchval(DIGEST.format(table=table, where=where))
            for table, where in TABLES.items()
        }
    finally:
        await conn.close()


async def _cycle_rows(dsn: str, name: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        digest: str = await conn.fetchval(CYCLE_ROWS, name)
        return digest
    finally:
        await conn.close()


async def _history(ops: Operations, daemon: Daemon, name: str) -> int:
    """A cycle whose batch went through submission, tracking, a failure resubmitted with an
    override, and reconciliation; its batch id."""
    config_id = await register_jobs(ops, name, 7)
    batch_id: int = (await ops.batches.create_batch("multi_job", config_id))["batch_id"]
    await ops.batches.submit_batch(batch_id)
    ids = await job_ids(ops, batch_id)
    for job_id in ids[1:]:
        await run_to(ops, daemon, job_id, "QUEUED", "RUNNING", "FINISHED")
    await run_to(ops, daemon, ids[0], "QUEUED", "FAILED")
    retry = await ops.resubmissions.resubmit_job(ids[0], {"target": "fixed"}, "threshold too high")
    await ops.jobs.submit_job(retry["job_id"])
    await run_to(ops, daemon, retry["job_id"], "FINISHED")
    await ops.recon.recon_batch(batch_id)
    return batch_id


PLAN = """
WITH plan AS (
    INSERT INTO irp_cycle_plan (cycle_id, configuration_id, plan_name, plan, status)
    SELECT c.cycle_id, c.id, 'default', '{"steps": ["multi_job"]}'::jsonb, 'COMPLETED'
      FROM irp_configuration c JOIN irp_batch b ON b.configuration_id = c.id WHERE b.id = $1
    RETURNING cycle_id
), run AS (
    INSERT INTO irp_step_run (cycle_id, step_name, status, batch_id, finished_ts)
    SELECT cycle_id, 'multi_job', 'COMPLETED', $1, now() FROM plan
    RETURNING id
)
UPDATE irp_batch SET step_run_id = (SELECT id FROM run) WHERE id = $1
"""


async def _plan_of(dsn: str, batch_id: int) -> None:
    """The batch as the step of a cycle plan (they point at each other), with an audit row."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(PLAN, batch_id)
        await conn.execute(
            "INSERT INTO irp_batch_audit_log (batch_id, action, reason, batch) "
            "VALUES ($1, 'DUPLICATE', 'test', '{}')",
            batch_id,
        )
    finally:
        await conn.close()


@pytest.fixture
async def archived(ops: Operations, db_dsn: str) -> dict[str, Any]:
    """Cycle 2026-Q1 with a finished history, archived by the creation of 2026-Q2, which has a
    batch with jobs in flight."""
    daemon = Daemon(db_dsn)
    await ops.cycles.create_cycle("2026-Q1")
    batch_id = await _history(ops, daemon, "2026-Q1")
    await _plan_of(db_dsn, batch_id)
    await ops.cycles.create_cycle("2026-Q2")
    config_id = await register_jobs(ops, "2026-Q2", 3)
    live_batch: int = (await ops.batches.create_batch("multi_job", config_id))["batch_id"]
    await ops.batches.submit_batch(live_batch)
    live = await job_ids(ops, live_batch)
    await run_to(ops, daemon, live[0], "RUNNING")
    return {"name": "2026-Q1", "live": "2026-Q2", "live_job": live[0]}


async def test_export_purge_import_round_trip(
    ops: Operations, db: Database, db_dsn: str, archived: dict[str, Any], tmp_path: Path
) -> None:
    before = await _digest(db_dsn)
    live_before = await _cycle_rows(db_dsn, archived["live"])

    exported = await retention.export_cycle(db, archived["name"], tmp_path)
    path = Path(str(exported.path))
    assert path.name == "2026-Q1" + retention.SUFFIX
    assert exported.rows["irp_job"] == 8  # 7 + the resubmission
    assert exported.rows["irp_job_tracking_log"] > 8
    assert exported.rows["irp_batch_recon_log"] >= 1
    assert exported.rows["irp_step_run"] == exported.rows["irp_batch_audit_log"] == 1
    assert retention.export_counts(path) == exported.rows

    purged = await retention.purge_cycle(db, archived["name"], export=path, chunk=3)
    assert purged.transactions > 8 // 3
    assert await _cycle_rows(db_dsn, archived["live"]) == live_before  # nothing live touched
    assert [c["cycle_name"] for c in await ops.cycles.list_cycles()] == [archived["live"]]
    assert await _cycle_rows(db_dsn, archived["name"]) is not None
    remaining = await retention.cycle_counts(db, 1)
    assert set(remaining.values()) == {0}

    restored = await retention.import_cycle(db, path)
    assert restored.rows == exported.rows
    assert await _digest(db_dsn) == before  # the export round-trips, byte for byte
    # and the restored history is usable: its report reads as before
    report = await ops.reports.batch_report(1)
    assert report["status"] == "COMPLETED"


async def test_only_an_archived_cycle_without_live_jobs_is_purged(
    ops: Operations, db: Database, db_dsn: str, archived: dict[str, Any], tmp_path: Path
) -> None:
    before = await _digest(db_dsn)
    with pytest.raises(CycleError, match="is ACTIVE; only ARCHIVED"):
        await retention.purge_cycle(db, archived["live"], export=None)
    with pytest.raises(CycleError, match="is ACTIVE"):
        await retention.export_cycle(db, archived["live"], tmp_path)
    with pytest.raises(CycleError, match="not found"):
        await retention.purge_cycle(db, "2025-Q9", export=None)
    # an archived cycle with a job still in flight (arranged directly: archiving refuses it)
    conn = await asyncpg.connect(db_dsn)
    try:
        await conn.execute(
            "UPDATE irp_cycle SET status = 'ARCHIVED', archived_ts = now() WHERE cycle_name = $1",
            archived["live"],
        )
    finally:
        await conn.close()
    with pytest.raises(CycleError, match="3 job\\(s\\) the engine works on"):
        await retention.purge_cycle(db, archived["live"], export=None)
    assert {k: v for k, v in (await _digest(db_dsn)).items() if k != "irp_cycle"} == {
        k: v for k, v in before.items() if k != "irp_cycle"
    }


def _spoiled_copies(path: Path, folder: Path) -> tuple[Path, Path, Path, Path]:
    """A truncated, a damaged, a consistent-but-short copy of an export, and another file."""
    lines = gzip.decompress(path.read_bytes()).decode().splitlines(keepends=True)
    truncated = folder / "truncated.gz"  # no end record
    truncated.write_bytes(gzip.compress("".join(lines[:-1]).encode()))
    damaged = folder / "damaged.gz"  # a record missing, the end record not matching
    damaged.write_bytes(gzip.compress("".join([*lines[:-2], lines[-1]]).encode()))
    short = folder / "short.gz"  # consistent, but one row less than the database holds
    last_table = json.loads(lines[-2])["table"]
    trailer = json.loads(lines[-1])
    trailer["rows"][last_table] -= 1
    short.write_bytes(gzip.compress("".join([*lines[:-2], json.dumps(trailer) + "\n"]).encode()))
    other = folder / "other.gz"
    other.write_bytes(gzip.compress(b'{"hello": 1}\n'))
    return truncated, damaged, short, other


async def test_a_purge_needs_a_complete_matching_export(
    db: Database, db_dsn: str, archived: dict[str, Any], tmp_path: Path
) -> None:
    exported = await retention.export_cycle(db, archived["name"], tmp_path)
    path = Path(str(exported.path))
    truncated, damaged, short, not_export = _spoiled_copies(path, tmp_path)
    before = await _digest(db_dsn)
    with pytest.raises(CycleError, match="truncated"):
        await retention.purge_cycle(db, archived["name"], export=truncated)
    with pytest.raises(CycleError, match="damaged"):
        await retention.purge_cycle(db, archived["name"], export=damaged)
    with pytest.raises(CycleError, match="does not hold cycle"):
        await retention.purge_cycle(db, archived["name"], export=short)
    with pytest.raises(CycleError, match="not an irpd cycle export"):
        await retention.purge_cycle(db, archived["name"], export=not_export)
    with pytest.raises(CycleError, match="Cannot read"):
        await retention.import_cycle(db, tmp_path / "missing.gz")
    assert await _digest(db_dsn) == before
    # importing over the rows that still exist is refused and writes nothing
    with pytest.raises(CycleError, match="already exist"):
        await retention.import_cycle(db, path)
    assert await _digest(db_dsn) == before


async def test_irpd_cycle_retire_exports_then_purges(
    db: Database, db_dsn: str, archived: dict[str, Any], tmp_path: Path
) -> None:
    """The command line: ``irpd cycle retire`` in its own process, then ``import``."""
    before = await _digest(db_dsn)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("IRPD_")},
        "IRPD_DATABASE_DSN": db_dsn,
        "IRPD_STATE_DIR": str(tmp_path / "state"),
    }
    base = [sys.executable, "-m", "irpd.cli.main", "cycle"]
    config = ["--config", str(tmp_path / "empty.toml")]
    await asyncio.to_thread((tmp_path / "empty.toml").write_text, "")
    retire = [*base, "retire", "--older-than", "0", "--out", str(tmp_path / "x"), *config]
    done = await asyncio.to_thread(
        subprocess.run, retire, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    exported, purged, outbox = (json.loads(line) for line in done.stdout.splitlines())
    assert exported["rows"] == purged["rows"]
    # the outbox's notifications of the fixture are unrouted (no sender ran): none purged
    assert outbox["cycle"] == "notifications"
    assert outbox["rows"] == {"irp_notification_message": 0, "irp_notification": 0}
    assert purged["transactions"] > 0
    assert [c["cycle_name"] for c in (await listings.cycles(db)).rows] == [archived["live"]]
    again = await asyncio.to_thread(
        subprocess.run,
        [*base, "import", exported["path"], *config],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert await _digest(db_dsn) == before
    refused = await asyncio.to_thread(
        subprocess.run,
        [*base, "purge", archived["live"], "--without-export", *config],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2
    assert "is ACTIVE" in refused.stderr


# notifications (key, age in days, routed) and messages (status, age in days, notification keys)
OUTBOX_NOTIFICATIONS = {
    "old_delivered": (10, True),
    "old_pending": (10, True),
    "old_unrouted": (10, False),
    "new_delivered": (0, True),
    "old_failed": (10, True),
    "old_in_new_digest": (10, True),
}
OUTBOX_MESSAGES = [
    ("DELIVERED", 10, ["old_delivered"]),
    ("PENDING", 10, ["old_pending"]),
    ("DELIVERED", 0, ["new_delivered"]),
    ("FAILED", 10, ["old_failed"]),
    ("DELIVERED", 0, ["old_in_new_digest", "new_delivered"]),
]


async def test_the_outbox_loses_only_old_finished_rows(db: Database, db_dsn: str) -> None:
    """Old DELIVERED/FAILED messages go, then old routed notifications no message names;
    anything PENDING, unrouted, recent or still named by a message stays."""
    conn = await asyncpg.connect(db_dsn)
    try:
        ids = {}
        for key, (age, routed) in OUTBOX_NOTIFICATIONS.items():
            ids[key] = await conn.fetchval(
                "INSERT INTO irp_notification (kind, severity, details, created_ts, routed_ts) "
                "VALUES ('batch_completed', 'info', $1::jsonb, now() - make_interval(days => $2), "
                "CASE WHEN $3 THEN now() - make_interval(days => $2) END) RETURNING id",
                json.dumps({"key": key}),
                age,
                routed,
            )
        for status, age, keys in OUTBOX_MESSAGES:
            await conn.execute(
                "INSERT INTO irp_notification_message (channel, idempotency_key, "
                "notification_ids, content, status, updated_ts) VALUES ('ops', gen_random_uuid(), "
                "$1, $2::jsonb, $3, now() - make_interval(days => $4))",
                [ids[k] for k in keys],
                json.dumps({"keys": keys}),
                status,
                age,
            )
        cutoff = await conn.fetchval("SELECT now() - interval '1 day'")
        done = await retention.purge_notifications(db, cutoff, chunk=1, pause=0)
        assert done.rows == {"irp_notification_message": 2, "irp_notification": 2}
        assert done.transactions > 4  # one row per transaction
        left = await conn.fetch("SELECT details ->> 'key' AS key FROM irp_notification")
        messages = await conn.fetch(
            "SELECT content -> 'keys' AS keys FROM irp_notification_message"
        )
    finally:
        await conn.close()
    assert {r["key"] for r in left} == set(OUTBOX_NOTIFICATIONS) - {"old_delivered", "old_failed"}
    assert sorted(json.loads(r["keys"])[0] for r in messages) == [
        "new_delivered",
        "old_in_new_digest",
        "old_pending",
    ]
