"""Direct reads of the daemon's database from synchronous tests (asyncpg in a worker thread).

The fingerprint leaves out ``irp_worker`` and ``irp_shard``: a running daemon renews its
heartbeat and leases there on its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import asyncpg

T = TypeVar("T")

#: engine bookkeeping that changes while the daemon merely runs
LIVENESS_TABLES = frozenset(
    # and the notification outbox, which the daemon's sender routes and delivers by itself
    {"irp_worker", "irp_shard", "irp_notification", "irp_notification_message"}
)

_TABLES = """
SELECT table_name FROM information_schema.tables
 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
 ORDER BY table_name
"""


def _run(dsn: str, work: Callable[[Any], Awaitable[T]]) -> T:
    async def main() -> T:
        conn: Any = await asyncpg.connect(dsn, timeout=10)
        try:
            return await work(conn)
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=120)


def fetch(dsn: str, query: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of a query, as dictionaries."""

    async def work(conn: Any) -> list[dict[str, Any]]:
        return [dict(r) for r in await conn.fetch(query, *args)]

    return _run(dsn, work)


def fingerprint(dsn: str) -> dict[str, tuple[int, str]]:
    """``{table: (row count, md5 of its rows)}`` for every ``irp_*`` table but the liveness
    ones (plus the migrations table, whatever it is called)."""

    async def work(conn: Any) -> dict[str, tuple[int, str]]:
        names = [r["table_name"] for r in await conn.fetch(_TABLES)]
        result: dict[str, tuple[int, str]] = {}
        for name in names:
            if name in LIVENESS_TABLES:
                continue
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' "
                f"ORDER BY t::text), '')) AS h FROM \"{name}\" t"
            )
            result[name] = (int(row["n"]), str(row["h"]))
        return result

    return _run(dsn, work)


def dump_all(dsn: str) -> str:
    """Every row of every table as JSON text (``row_to_json``), one per line."""

    async def work(conn: Any) -> str:
        names = [r["table_name"] for r in await conn.fetch(_TABLES)]
        lines: list[str] = []
        for name in names:
            rows = await conn.fetch(f'SELECT row_to_json(t)::text AS j FROM "{name}" t')
            lines.extend(f"{name}: {r['j']}" for r in rows)
        return "\n".join(lines)

    return _run(dsn, work)


def jobs(dsn: str) -> list[dict[str, Any]]:
    """Every job with its batch's status."""
    return fetch(
        dsn,
        "SELECT j.*, b.status AS batch_status FROM irp_job j "
        "JOIN irp_batch b ON b.id = j.batch_id ORDER BY j.id",
    )


def tracking_log(dsn: str) -> list[dict[str, Any]]:
    """Every tracking-log row, in insertion order."""
    return fetch(dsn, "SELECT * FROM irp_job_tracking_log ORDER BY id")


def batches(dsn: str) -> list[dict[str, Any]]:
    """Every batch."""
    return fetch(dsn, "SELECT * FROM irp_batch ORDER BY id")


def shards(dsn: str) -> list[dict[str, Any]]:
    """The shard leases as they stand."""
    return fetch(
        dsn,
        "SELECT shard, owner_worker_id, generation, lease_expires_ts > now() AS live "
        "FROM irp_shard ORDER BY shard",
    )
