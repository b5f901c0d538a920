"""The database handle: an asyncpg pool that runs named queries from ``sql/queries``.

Outside ``irpd.db`` nothing sees asyncpg: callers get :class:`Database` and :class:`Tx`, run
queries by name, and receive rows as read-only mappings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast

import asyncpg

import sql
from irpd.errors import RetryableError

Row = Mapping[str, Any]

#: errors that mean "the database cannot be reached right now", not "the query is wrong"
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    # raised when the pool resets a connection the server just dropped ("cannot switch to
    # state N; another operation is in progress"): the connection is gone, not misused
    asyncpg.InternalClientError,
)


class DatabaseUnavailable(RetryableError):
    """PostgreSQL cannot be reached (outage, restart, network); the operation did not happen."""

    kind = "DatabaseUnavailable"


class UniqueViolation(RetryableError):
    """A unique constraint refused a write (e.g. two writers raced to create the same row).

    ``constraint`` names the constraint or unique index, so callers can tell which rule spoke.
    """

    kind = "UniqueViolation"

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class UnknownQueryError(KeyError):
    """A query name that is not defined in ``sql/queries``."""


@contextmanager
def _translated() -> Iterator[None]:
    """Re-raise connection-level failures as :class:`DatabaseUnavailable`."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise UniqueViolation(str(exc), exc.constraint_name) from exc
    except _UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"database unavailable: {type(exc).__name__}: {exc}") from exc


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's reset query (``RESET ALL; UNLISTEN *; ...``): irpd sets
    no session state (advisory locks are transaction-scoped, cursors live in transactions),
    so the query would be one more round trip per database call. An open transaction is
    still rolled back by the pool before this runs."""


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


#: told after every database call: ``None`` when it reached the database, else the
#: :class:`DatabaseUnavailable` it raised (the daemon's health state listens to this)
Observer = Callable[[DatabaseUnavailable | None], None]


class _Runner:
    """Named-query execution over something with asyncpg's query methods."""

    def __init__(
        self, target: Any, queries: Mapping[str, str], observers: list[Observer] | None = None
    ) -> None:
        self._target = target
        self._queries = queries
        self._observers: list[Observer] = observers if observers is not None else []

    @contextmanager
    def _translated(self) -> Iterator[None]:
        """Translate connection failures and tell the observers how the call went."""
        try:
            with _translated():
                yield
        except DatabaseUnavailable as exc:
            for observer in self._observers:
                observer(exc)
            raise
        for observer in self._observers:
            observer(None)

    def sql(self, name: str) -> str:
        """The text of a named query."""
        try:
            return self._queries[name]
        except KeyError:
            raise UnknownQueryError(name) from None

    async def fetch(self, name: str, *args: Any) -> list[Row]:
        """All rows of a named query."""
        with self._translated():
            rows: list[Row] = await self._target.fetch(self.sql(name), *args)
        return rows

    async def fetchrow(self, name: str, *args: Any) -> Row | None:
        """The first row of a named query, or None."""
        with self._translated():
            row: Row | None = await self._target.fetchrow(self.sql(name), *args)
        return row

    async def fetchval(self, name: str, *args: Any) -> Any:
        """The first column of the first row of a named query."""
        with self._translated():
            return await self._target.fetchval(self.sql(name), *args)

    async def execute(self, name: str, *args: Any) -> str:
        """Run a named statement; return its status tag (e.g. ``UPDATE 1``)."""
        with self._translated():
            status: str = await self._target.execute(self.sql(name), *args)
        return status

    async def executemany(self, name: str, args: Iterable[Sequence[Any]]) -> None:
        """Run a named statement once per argument tuple, in one round trip pipeline."""
        with self._translated():
            await self._target.executemany(self.sql(name), args)


class Tx(_Runner):
    """A connection inside an open transaction."""

    def __init__(
        self, conn: Any, queries: Mapping[str, str], observers: list[Observer] | None = None
    ) -> None:
        super().__init__(conn, queries, observers)
        self._conn = conn

    async def execute_script(self, script: str) -> None:
        """Run a multi-statement script (migrations only: never for user input)."""
        await self._conn.execute(script)

    async def copy_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Bulk-insert rows with COPY (the fastest way to write audit rows)."""
        with self._translated():
            await self._conn.copy_records_to_table(table, records=rows, columns=list(columns))


class Database(_Runner):
    """A connection pool plus the named queries; the one way irpd talks to PostgreSQL."""

    #: connections of the separate pool that serves large reads (listings, exports)
    READ_POOL_SIZE = 2

    def __init__(
        self,
        pool: asyncpg.Pool,
        queries: Mapping[str, str],
        dsn: str,
        pool_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(pool, queries, [])
        self._pool = pool
        self.dsn = dsn
        self._pool_options = dict(pool_options or {})
        self._read_pool: asyncpg.Pool | None = None
        self._read_lock = asyncio.Lock()

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
        queries = sql.load_queries()
        options: dict[str, Any] = {
            "command_timeout": command_timeout,
            "init": _init_connection,
            "reset": _keep_session,
            "application_name": application_name,
        }
        with _translated():
            pool = await _create_pool(dsn, min_size, max_size, options)
        return cls(pool, queries, dsn, options)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A connection in a transaction: committed on success, rolled back on any error."""
        with self._translated():
            async with self._pool.acquire() as conn, conn.transaction():
                yield Tx(conn, self._queries, self._observers)

    async def fetch_batches(
        self, name: str, *args: Any, size: int = 5000
    ) -> AsyncIterator[list[Row]]:
        """The rows of a named query, ``size`` at a time through a cursor, so that a caller
        handling 100,000 rows can give the event loop back between batches."""
        with self._translated():
            async with self._pool.acquire() as conn, conn.transaction():
                cursor = await conn.cursor(self.sql(name), *args)
                while True:
                    rows = await cursor.fetch(size)
                    if not rows:
                        break
                    yield cast("list[Row]", rows)

    async def _reader(self) -> asyncpg.Pool:
        """The read pool, opened on first use (most processes never list anything large)."""
        async with self._read_lock:
            if self._read_pool is None:
                options = dict(self._pool_options)
                options["application_name"] = f"{options.get('application_name', 'irpd')}-read"
                self._read_pool = await _create_pool(self.dsn, 0, self.READ_POOL_SIZE, options)
            return self._read_pool

    async def fetch_read(self, name: str, *args: Any) -> list[Row]:
        """All rows of a named read query, run on the separate read pool: a listing or an
        export never takes one of the connections the engine writes through, and never
        waits behind them."""
        with self._translated():
            pool = await self._reader()
            return cast("list[Row]", await pool.fetch(self.sql(name), *args))

    async def read_batches(
        self, name: str, *args: Any, size: int = 5000
    ) -> AsyncIterator[list[Row]]:
        """Like :meth:`fetch_batches`, on the read pool (exports of whole cycles)."""
        with self._translated():
            pool = await self._reader()
            async with pool.acquire() as conn, conn.transaction(readonly=True):
                cursor = await conn.cursor(self.sql(name), *args)
                while True:
                    rows = await cursor.fetch(size)
                    if not rows:
                        break
                    yield cast("list[Row]", rows)

    def observe(self, observer: Observer) -> None:
        """Call ``observer`` after every database call (success: ``None``; outage: the error)."""
        self._observers.append(observer)

    def pool_use(self) -> tuple[int, int, int]:
        """(open connections, idle connections, the pool's maximum) right now."""
        pool = self._pool
        return pool.get_size(), pool.get_idle_size(), pool.get_max_size()

    async def ping(self) -> bool:
        """True when a trivial query succeeds."""
        try:
            return bool(await self.fetchval("ping"))
        except (DatabaseUnavailable, asyncpg.PostgresError):
            return False

    async def close(self) -> None:
        """Close every connection of both pools."""
        if self._read_pool is not None:
            await self._read_pool.close()
            self._read_pool = None
        await self._pool.close()


async def _create_pool(
    dsn: str, min_size: int, max_size: int, options: Mapping[str, Any]
) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        command_timeout=options.get("command_timeout"),
        init=options.get("init"),
        reset=options.get("reset"),
        # JIT compilation costs hundreds of ms on report queries and never pays back for
        # short OLTP statements
        server_settings={"application_name": options.get("application_name", "irpd"), "jit": "off"},
    )
