"""A fingerprint of the database's domain tables: row count and content hash of each.

Read straight from PostgreSQL (asyncpg, in a worker thread so that the synchronous tests
need no event loop). ``irp_worker`` and ``irp_shard`` are left out: they hold the running
daemon's heartbeat and shard leases, which it renews on its own every few seconds.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import asyncpg

from tests.processes import eventually

#: engine bookkeeping that changes while the daemon merely runs
LIVENESS_TABLES = frozenset(
    # and the notification outbox, which the daemon's sender routes and delivers by itself
    {"irp_worker", "irp_shard", "irp_notification", "irp_notification_message"}
)

_TABLES = """
SELECT table_name FROM information_schema.tables
 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
   AND table_name LIKE 'irp\\_%'
 ORDER BY table_name
"""


@dataclass(frozen=True, slots=True)
class TableDigest:
    """One table's row count and the md5 of its rows (ordered by their text)."""

    rows: int
    digest: str


async def _snapshot(dsn: str) -> dict[str, TableDigest]:
    conn: Any = await asyncpg.connect(dsn)
    try:
        names = [r["table_name"] for r in await conn.fetch(_TABLES)]
        result: dict[str, TableDigest] = {}
        for name in names:
            if name in LIVENESS_TABLES:
                continue
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(coalesce(string_agg(t::text, E'\\n' "
                f"ORDER BY t::text), '')) AS h FROM \"{name}\" t"
            )
            result[name] = TableDigest(int(row["n"]), str(row["h"]))
        return result
    finally:
        await conn.close()


def snapshot(dsn: str) -> dict[str, TableDigest]:
    """Every ``irp_*`` table but the liveness ones: ``{table: TableDigest}``."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _snapshot(dsn)).result(timeout=60)


def fetch(dsn: str, query: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of a read-only query, as dictionaries."""

    async def run() -> list[dict[str, Any]]:
        conn: Any = await asyncpg.connect(dsn)
        try:
            return [dict(r) for r in await conn.fetch(query, *args)]
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run()).result(timeout=60)


def settled_snapshot(dsn: str, timeout: float = 30.0) -> dict[str, TableDigest]:
    """A snapshot once two taken half a second apart agree (the daemon has gone quiet)."""
    previous = snapshot(dsn)

    def probe() -> dict[str, TableDigest] | None:
        nonlocal previous
        time.sleep(0.5)
        current = snapshot(dsn)
        if current == previous:
            return current
        previous = current
        return None

    return eventually(probe, "the database to stop changing", timeout)
