"""The database handle: an asyncpg pool that runs named queries from ``sql/queries``.

Outside ``irpd.db`` nothing sees asyncpg: callers get :class:`Database` and :class:`Tx`, run
queries by name, and receive rows as read-only mappings.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

import sql

Row = Mapping[str, Any]


class UnknownQueryError(KeyError):
    """A query name that is not defined in ``sql/queries``."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class _Runner:
    """Named-query execution over something with asyncpg's query methods."""

    def __init__(self, target: Any, queries: Mapping[str, str]) -> None:
        self._target = target
        self._queries = queries

    def sql(self, name: str) -> str:
        """The text of a named query."""
        try:
            return self._queries[name]
        except KeyError:
            raise UnknownQueryError(name) from None

    async def fetch(self, name: str, *args: Any) -> list[Row]:
        """All rows of a named query."""
        rows: list[Row] = await self._target.fetch(self.sql(name), *args)
        return rows

    async def fetchrow(self, name: str, *args: Any) -> Row | None:
        """The first row of a named query, or None."""
        row: Row | None = await self._target.fetchrow(self.sql(name), *args)
        return row

    async def fetchval(self, name: str, *args: Any) -> Any:
        """The first column of the first row of a named query."""
        return await self._target.fetchval(self.sql(name), *args)

    async def execute(self, name: str, *args: Any) -> str:
        """Run a named statement; return its status tag (e.g. ``UPDATE 1``)."""
        status: str = await self._target.execute(self.sql(name), *args)
        return status

    async def executemany(self, name: str, args: Iterable[Sequence[Any]]) -> None:
        """Run a named statement once per argument tuple, in one round trip pipeline."""
        await self._target.executemany(self.sql(name), args)


class Tx(_Runner):
    """A connection inside an open transaction."""

    def __init__(self, conn: asyncpg.Connection, queries: Mapping[str, str]) -> None:
        super().__init__(conn, queries)
        self._conn = conn

    async def execute_script(self, script: str) -> None:
        """Run a multi-statement script (migrations only: never for user input)."""
        await self._conn.execute(script)

    async def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Bulk-insert rows with COPY (the fastest way to write audit rows)."""
        await self._conn.copy_records_to_table(table, records=rows, columns=list(columns))


class Database(_Runner):
    """A connection pool plus the named queries; the one way irpd talks to PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, queries: Mapping[str, str], dsn: str) -> None:
        super().__init__(pool, queries)
        self._pool = pool
        self.dsn = dsn

    @classmethod
    async def connect(
        cls,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        command_timeout: float | None = 60.0,
        application_name: str = "irpd",
    ) -> Database:
        """Open a pool on ``dsn`` with JSON codecs installed."""
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            command_timeout=command_timeout,
            init=_init_connection,
            server_settings={"application_name": application_name},
        )
        return cls(pool, sql.load_queries(), dsn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A connection in a transaction: committed on success, rolled back on any error."""
        async with self._pool.acquire() as conn, conn.transaction():
            yield Tx(conn, self._queries)

    async def ping(self) -> bool:
        """True when a trivial query succeeds."""
        try:
            return bool(await self.fetchval("ping"))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            return False

    async def close(self) -> None:
        """Close every connection of the pool."""
        await self._pool.close()
