"""The PostgreSQL-only limit of transition throughput: the daemon's own bulk statements alone.

After the throughput phase (the daemon stopped), the phase's N jobs go back to QUEUED and the
statement the tracker writes a chunk of reports with (``EngineStore.apply_moves`` with the
``engine_apply_reports`` effects: compare-and-set, tracking-log row, one statement per chunk,
fenced by shard leases) moves them QUEUED → RUNNING again, replaying the daemon's own chunks
(the same jobs per statement, read back from the tracking log by writing transaction, in the
order it wrote them) on ``CONNECTIONS`` connections at once, with no daemon, no HTTP and no
fake. Which jobs share a statement decides how many of its updates find room on their heap
pages (HOT updates, no index writes), so a replay of other chunks would measure another
workload. Transitions/s of the daemon divided by this is how close it comes to what
PostgreSQL allows for its own writes on this machine.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time

from bench.benchdb import BenchDb
from irpd.db.database import Database
from irpd.db.engine_store import EngineStore
from irpd.db.moves import reports
from irpd.engine.leases import SHARDS
from statemachines.job import JobStatus, report_move

#: statements in flight at once (more only queue in PostgreSQL on one or two cores)
CONNECTIONS = 4
WORKER = "bench-statement-alone"


async def statement_alone(db: BenchDb, dsn: str, batch_id: int) -> float | None:
    """Transitions/s of the tracker's bulk statements alone, replaying the daemon's
    QUEUED → RUNNING chunks of the batch (its jobs moved back to QUEUED first); ``None``
    when there are none."""
    chunks = await db.daemon_statements("QUEUED", "RUNNING", batch_id)
    ids = await db.back_to_queued(batch_id)
    if not ids or not chunks:
        return None
    if sorted(i for chunk in chunks for i in chunk) != ids:
        raise RuntimeError("statement alone: the daemon's chunks are not the batch's jobs")
    chunks.reverse()  # taken from the end: in the order the daemon wrote them
    pool = await Database.connect(dsn, max_size=CONNECTIONS, application_name=WORKER)
    store = EngineStore(pool, WORKER)
    try:
        await store.heartbeat(socket.gethostname(), os.getpid(), "bench")
        await store.claim(600.0, SHARDS)
        started = time.perf_counter()
        await asyncio.gather(*(_write(store, chunks) for _ in range(CONNECTIONS)))
        seconds = time.perf_counter() - started
    finally:
        await store.stop_worker()
        await pool.close()
    return len(ids) / seconds if seconds > 0 else None


async def _write(store: EngineStore, chunks: list[list[int]]) -> None:
    """Take chunks until none is left, one statement each (as the tracker writes them)."""
    while chunks:
        chunk = chunks.pop()
        moves = [report_move(job_id, "QUEUED", JobStatus.RUNNING) for job_id in chunk]
        size = len(moves)
        moved = await store.apply_moves(
            moves, reports([None] * size, [5.0] * size, [None] * size), "moodys"
        )
        if len(moved) != size:
            raise RuntimeError(f"statement alone: {len(moved)} of {size} moved (leases?)")
