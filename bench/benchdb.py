"""The benchmark's PostgreSQL: which server, fresh migrated databases, seeding and observing.

The server is ``--dsn`` when given, else the local server on 127.0.0.1:5432 if it answers,
else an embedded one (pgserver) in the work directory; with ``--split-cores`` always an
embedded one, pinned to its cores (``bench/layout.py``). Every run creates its own databases
and drops them at the end. The SQL lives in ``bench/sql/bench.sql``, run by name.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import asyncpg

import sql
from bench import layout
from irpd.db.database import Database
from irpd.db.embedded import EmbeddedPostgres
from irpd.db.migrate import migrate
from irpd.db.provision import create_database, drop_database, with_database

LOCAL_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SQL_FILE = Path(__file__).with_name("sql") / "bench.sql"


def bench_queries() -> Mapping[str, str]:
    """The named queries of ``bench/sql/bench.sql``."""
    text = SQL_FILE.read_text(encoding="utf-8")
    return MappingProxyType(sql.parse_queries(text, SQL_FILE.name))


@dataclass(frozen=True, slots=True)
class Transitions:
    """Committed transitions of one kind and when their writes ran (epoch seconds)."""

    count: int
    first_ts: float | None
    last_ts: float | None


@dataclass
class Server:
    """The PostgreSQL server the benchmark uses (and the embedded one it started, if any)."""

    admin_dsn: str
    description: str
    embedded: EmbeddedPostgres | None = None

    def stop(self) -> None:
        """Stop the embedded server if this run started one."""
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None


async def reachable(dsn: str, timeout: float = 3.0) -> bool:
    """True when a connection to ``dsn`` opens within ``timeout`` seconds."""
    try:
        conn = await asyncpg.connect(dsn, timeout=timeout)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


async def choose_server(
    dsn: str | None, workdir: Path, postgres_cpus: tuple[int, ...] = ()
) -> Server:
    """``dsn``, else the local server if reachable, else an embedded server in ``workdir``;
    with ``postgres_cpus``, an embedded server pinned to them (see :func:`pinned_server`)."""
    if postgres_cpus:
        if dsn:
            raise ValueError("a given server (--dsn) cannot be pinned to cores")
        return await pinned_server(workdir, postgres_cpus)
    if dsn:
        return Server(dsn, "given (--dsn)")
    if await reachable(LOCAL_DSN):
        return Server(LOCAL_DSN, "local (127.0.0.1:5432)")
    embedded = EmbeddedPostgres(workdir / "pgdata")
    admin = await embedded.start_async()
    return Server(admin, "embedded (pgserver)", embedded)


async def pinned_server(workdir: Path, cpus: tuple[int, ...]) -> Server:
    """An embedded server in ``workdir`` started from a thread restricted to ``cpus``; its
    postmaster's affinity is checked (every backend inherits it)."""
    embedded = EmbeddedPostgres(workdir / "pgdata")
    admin = await asyncio.to_thread(layout.call_pinned, cpus, embedded.start)
    description = f"embedded (pgserver), pinned to core(s) {layout.cores_text(cpus)}"
    server = Server(admin, description, embedded)
    postmaster = int((embedded.data_dir / "postmaster.pid").read_text().split()[0])
    found = layout.affinity_of(postmaster)
    if found != tuple(sorted(cpus)):
        server.stop()
        message = (
            f"the embedded postmaster runs on core(s) {layout.cores_text(found)}, "
            f"not {layout.cores_text(cpus)}"
        )
        raise RuntimeError(message)
    return server


async def fresh_database(admin_dsn: str, label: str) -> str:
    """Create and migrate a database named after ``label``; return its DSN."""
    name = f"irpd_bench_{label}_{uuid.uuid4().hex[:8]}"
    await create_database(admin_dsn, name)
    dsn = with_database(admin_dsn, name)
    db = await Database.connect(dsn, max_size=1, application_name="irpd-bench")
    try:
        await migrate(db)
    finally:
        await db.close()
    return dsn


async def drop(admin_dsn: str, dsn: str) -> None:
    """Drop the database ``dsn`` points at."""
    name = dsn.rsplit("/", 1)[1].split("?", 1)[0]
    await drop_database(admin_dsn, name)


class BenchDb:
    """One connection to a benchmark database, running ``bench.sql`` queries by name."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn
        self._queries = bench_queries()

    @classmethod
    async def connect(cls, dsn: str) -> BenchDb:
        """Open the connection."""
        conn = await asyncpg.connect(dsn, server_settings={"application_name": "irpd-bench"})
        return cls(conn)

    async def close(self) -> None:
        """Close the connection."""
        await self._conn.close()

    async def _val(self, name: str, *args: Any) -> Any:
        return await self._conn.fetchval(self._queries[name], *args)

    async def seed_in_flight(self, jobs: int, first_workflow_id: int) -> int:
        """A cycle, an ACTIVE configuration and batch with ``jobs`` SUBMITTED jobs whose
        workflow ids are ``first_workflow_id …``; returns the batch id."""
        async with self._conn.transaction():
            cycle = await self._val("seed_cycle", f"bench-in-flight-{uuid.uuid4().hex[:8]}")
            configuration = await self._val("seed_active_configuration", cycle)
            batch = int(await self._val("seed_active_batch", configuration))
            await self._conn.execute(
                self._queries["seed_job_configurations"], batch, configuration, jobs
            )
            await self._conn.execute(self._queries["seed_submitted_jobs"], batch, first_workflow_id)
        await self._conn.execute(self._queries["analyze"])
        return batch

    async def seed_submission(self, jobs: int) -> int:
        """The active cycle and a VALID multi_job configuration of ``jobs`` jobs; its id."""
        async with self._conn.transaction():
            cycle = await self._val("seed_cycle", f"bench-submission-{uuid.uuid4().hex[:8]}")
            return int(await self._val("seed_submission_configuration", cycle, jobs))

    async def jobs_in_status(self, batch_id: int, statuses: Sequence[str]) -> int:
        """How many jobs of the batch are in one of ``statuses``."""
        return int(await self._val("jobs_in_status", batch_id, list(statuses)))

    async def wait_until_none_in(
        self,
        batch_id: int,
        statuses: Sequence[str],
        *,
        timeout: float,
        interval: float = 0.1,
        alive: Callable[[], bool] | None = None,
    ) -> bool:
        """Poll until no job of the batch is in ``statuses``; False on time-out or when
        ``alive()`` (the daemon) turns false."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.jobs_in_status(batch_id, statuses) == 0:
                return True
            if alive is not None and not alive():
                return False
            await asyncio.sleep(interval)
        return False

    async def transitions(
        self, previous: str, status: str, batch_id: int | None = None
    ) -> Transitions:
        """Committed ``previous → status`` transitions (of one batch's jobs, if given)."""
        if batch_id is None:
            row = await self._conn.fetchrow(self._queries["transition_span"], previous, status)
        else:
            row = await self._conn.fetchrow(
                self._queries["transition_span_of_batch"], previous, status, batch_id
            )
        assert row is not None
        return Transitions(int(row["transitions"]), row["first_ts"], row["last_ts"])

    async def daemon_statements(
        self, previous: str, status: str, batch_id: int
    ) -> list[list[int]]:
        """The jobs each of the daemon's statements moved ``previous → status``, in order."""
        rows = await self._conn.fetch(
            self._queries["daemon_statements"], previous, status, batch_id
        )
        return [[int(i) for i in row["ids"]] for row in rows]

    async def back_to_queued(self, batch_id: int) -> list[int]:
        """The batch's RUNNING jobs back in QUEUED, vacuumed; their ids in order."""
        ids = await self._val("running_back_to_queued", batch_id)
        await self.vacuum_jobs()
        return [int(i) for i in ids]

    async def vacuum_jobs(self) -> None:
        """``VACUUM ANALYZE irp_job``: the dead rows of the phase before are gone."""
        await self._conn.execute(self._queries["vacuum_jobs"])

    async def daemon_backends(self) -> list[int]:
        """Process ids of the daemon's PostgreSQL backends on this database."""
        rows = await self._conn.fetch(self._queries["daemon_backends"])
        return [int(row["pid"]) for row in rows]

    async def backend_pid(self) -> int:
        """Process id of this connection's PostgreSQL backend."""
        return int(await self._val("backend_pid"))

    async def server_facts(self) -> dict[str, str]:
        """Version and the settings that decide write throughput."""
        row = await self._conn.fetchrow(self._queries["server_version"])
        assert row is not None
        return {key: str(value) for key, value in row.items()}
