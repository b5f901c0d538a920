"""The database handle: an asyncpg pool that runs named queries from ``sql/queries``.

Outside ``irpd.db`` nothing sees asyncpg: callers get :class:`Database` and :class:`Tx`, run
queries by name, and receive rows as read-only mappings.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast

import asyncpg

import sql
from irpd.db.conflicts import CONFLICT_RETRY, ConflictRetry
from irpd.db.failures import (
    ConcurrencyConflict,
    DatabaseReadOnly,
    DatabaseUnavailable,
    UniqueViolation,
    connect_error,
    session_attrs,
    translate,
)

__all__ = ["Database", "DatabaseUnavailable", "Row", "Tx", "UniqueViolation"]

Row = Mapping[str, Any]


class UnknownQueryError(KeyError):
    """A query name that is not defined in ``sql/queries``."""


@contextmanager
def _translated(query: str = "") -> Iterator[None]:
    """Re-raise database failures as irpd's errors (see :mod:`irpd.db.failures`)."""
    try:
        yield
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError,
            asyncpg.InternalClientError) as exc:  # fmt: skip
        translated = translate(exc, query)
        if translated is None:
            raise
        raise translated from exc


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


#: told after every database call with the query's name: ``None`` when it reached the
#: database, else the :class:`DatabaseUnavailable` it raised (the daemon's health listens)
Observer = Callable[[str, DatabaseUnavailable | None], None]


class _Runner:
    """Named-query execution over something with asyncpg's query methods. With ``retry``
    (the pool: each statement is its own transaction) a statement aborted by a deadlock or
    serialization failure is run again; inside a transaction it is not (the transaction is
    what was aborted: see :mod:`irpd.db.conflicts`)."""

    def __init__(
        self,
        target: Any,
        queries: Mapping[str, str],
        observers: list[Observer] | None = None,
        retry: ConflictRetry | None = None,
    ) -> None:
        self._target = target
        self._queries = queries
        self._observers: list[Observer] = observers if observers is not None else []
        self._retry = retry

    @contextmanager
    def _translated(self, query: str = "") -> Iterator[None]:
        """Translate database failures and tell the observers how the call went."""
        try:
            with _translated(query):
                yield
        except DatabaseUnavailable as exc:
            if not exc.observed:
                exc.observed = True
                # a conflict is an answer, not an outage
                told = None if isinstance(exc, ConcurrencyConflict) else exc
                for observer in self._observers:
                    observer(query, told)
            raise
        for observer in self._observers:
            observer(query, None)

    async def _run(self, name: str, call: Callable[[str], Awaitable[Any]]) -> Any:
        """``call(sql)`` for the named query, translated; retried on conflicts (pool only)."""
        text = self.sql(name)

        async def once() -> Any:
            with self._translated(name):
                return await call(text)

        if self._retry is None:
            return await once()
        return await self._retry.run("statement", once)

    def sql(self, name: str) -> str:
        """The text of a named query."""
        try:
            return self._queries[name]
        except KeyError:
            raise UnknownQueryError(name) from None

    async def fetch(self, name: str, *args: Any) -> list[Row]:
        """All rows of a named query."""
        rows: list[Row] = await self._run(name, lambda text: self._target.fetch(text, *args))
        return rows

    async def fetchrow(self, name: str, *args: Any) -> Row | None:
        """The first row of a named query, or None."""
        row: Row | None = await self._run(name, lambda text: self._target.fetchrow(text, *args))
        return row

    async def fetchval(self, name: str, *args: Any) -> Any:
        """The first column of the first row of a named query."""
        return await self._run(name, lambda text: self._target.fetchval(text, *args))

    async def execute(self, name: str, *args: Any) -> str:
        """Run a named statement; return its status tag (e.g. ``UPDATE 1``)."""
        status: str = await self._run(name, lambda text: self._target.execute(text, *args))
        return status

    async def executemany(self, name: str, args: Iterable[Sequence[Any]]) -> None:
        """Run a named statement once per argument tuple, in one round trip pipeline (one
        transaction: asyncpg's ``executemany`` is atomic)."""
        rows = list(args)  # a retry needs them again
        await self._run(name, lambda text: self._target.executemany(text, rows))


class Tx(_Runner):
    """A connection inside an open transaction."""

    def __init__(
        self, conn: Any, queries: Mapping[str, str], observers: list[Observer] | None = None
    ) -> None:
        super().__init__(conn, queries, observers)
        self._conn = conn

    async def cursor(self, name: str, *args: Any) -> TxCursor:
        """A cursor over a named query's rows, read one row at a time."""
        with self._translated(name):
            cursor = await self._conn.cursor(self.sql(name), *args)
        return TxCursor(self, name, cursor)

    async def execute_script(self, script: str) -> None:
        """Run a multi-statement script (migrations only: never for user input)."""
        with self._translated("migration"):
            await self._conn.execute(script)

    async def copy_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Bulk-insert rows with COPY (the fastest way to write audit rows)."""
        with self._translated(f"copy:{table}"):
            await self._conn.copy_records_to_table(table, records=rows, columns=list(columns))


class TxCursor:
    """The rows of a named query inside its transaction, one per :meth:`fetchrow`."""

    def __init__(self, tx: Tx, name: str, cursor: Any) -> None:
        self._tx = tx
        self._name = name
        self._cursor = cursor

    async def fetchrow(self) -> Row | None:
        """The next row, or None after the last."""
        with self._tx._translated(self._name):
            row: Row | None = await self._cursor.fetchrow()
        return row


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
        super().__init__(pool, queries, [], CONFLICT_RETRY)
        self._pool = pool
        self.dsn = dsn
        self._pool_options = dict(pool_options or {})
        self._read_pool: asyncpg.Pool | None = None
        self._read_lock = asyncio.Lock()
        self._expiring: set[asyncio.Task[None]] = set()
        self._observers.append(self._replace_read_only)

    def _replace_read_only(self, query: str, error: DatabaseUnavailable | None) -> None:
        """A read-only answer: every pooled connection is replaced at its next use, so the
        next ones go to whichever host of the DSN is writable now."""
        if isinstance(error, DatabaseReadOnly):
            self.reconnect()

    def reconnect(self) -> None:
        """Replace every pooled connection at its next use (after a failover, or SIGHUP)."""
        for pool in (self._pool, self._read_pool):
            if pool is not None:
                task = asyncio.get_running_loop().create_task(pool.expire_connections())
                self._expiring.add(task)
                task.add_done_callback(self._expiring.discard)

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
        """Open a pool on ``dsn`` with JSON codecs installed; every session is writable
        (``target_session_attrs=read-write`` unless the DSN names it: with several hosts,
        the writable one is used). Raises :class:`DatabaseConfigError` for a DSN, password
        or database name no waiting will fix, :class:`DatabaseUnavailable` otherwise."""
        queries = sql.load_queries()
        options: dict[str, Any] = {
            "command_timeout": command_timeout,
            "init": _init_connection,
            "reset": _keep_session,
            "application_name": application_name,
            "target_session_attrs": session_attrs(dsn),
        }
        try:
            pool = await _create_pool(dsn, min_size, max_size, options)
        except (OSError, TimeoutError, ValueError, asyncpg.PostgresError,
                asyncpg.InterfaceError, asyncpg.InternalClientError) as exc:  # fmt: skip
            wrong = connect_error(exc)
            if wrong is not None:
                raise wrong from exc
            translated = translate(exc, "connect")
            if translated is None:
                raise
            raise translated from exc
        return cls(pool, queries, dsn, options)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A connection in a transaction: committed on success, rolled back on any error."""
        with self._translated("transaction"):
            async with self._pool.acquire() as conn, conn.transaction():
                yield Tx(conn, self._queries, self._observers)

    async def fetch_batches(
        self, name: str, *args: Any, size: int = 5000
    ) -> AsyncIterator[list[Row]]:
        """The rows of a named query, ``size`` at a time through a cursor, so that a caller
        handling 100,000 rows can give the event loop back between batches."""
        with self._translated(name):
            async with self._pool.acquire() as conn, conn.transaction():
                cursor = await conn.cursor(self.sql(name), *args)
                while True:
                    rows = await cursor.fetch(size)
                    if not rows:
                        break
                    yield cast("list[Row]", rows)

    async def _reader(self, *, kept: bool = False) -> asyncpg.Pool:
        """The read pool, opened on first use (most processes never list anything large)."""
        async with self._read_lock:
            if self._read_pool is None:
                options = dict(self._pool_options)
                options["application_name"] = f"{options.get('application_name', 'irpd')}-read"
                self._read_pool = await _create_pool(
                    self.dsn, 1 if kept else 0, self.READ_POOL_SIZE, options, kept=kept
                )
            return self._read_pool

    async def open_reader(self) -> None:
        """Open the read pool now, with a connection that stays open: the daemon's first page
        of a listing then pays no connection set-up (~15 ms: measured as the first page's
        extra time in ``bench.run``'s listing phase)."""
        with self._translated("open_reader"):
            await self._reader(kept=True)

    async def fetch_read(self, name: str, *args: Any) -> list[Row]:
        """All rows of a named read query, run on the separate read pool: a listing or an
        export never takes one of the connections the engine writes through, and never
        waits behind them."""
        with self._translated(name):
            pool = await self._reader()
            return cast("list[Row]", await pool.fetch(self.sql(name), *args))

    async def read_batches(
        self, name: str, *args: Any, size: int = 5000
    ) -> AsyncIterator[list[Row]]:
        """Like :meth:`fetch_batches`, on the read pool (exports of whole cycles)."""
        with self._translated(name):
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
    dsn: str, min_size: int, max_size: int, options: Mapping[str, Any], *, kept: bool = False
) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        # kept: idle connections are never closed (asyncpg closes them after 300 s otherwise)
        max_inactive_connection_lifetime=0.0 if kept else 300.0,
        command_timeout=options.get("command_timeout"),
        init=options.get("init"),
        reset=options.get("reset"),
        target_session_attrs=options.get("target_session_attrs"),
        # JIT compilation costs hundreds of ms on report queries and never pays back for
        # short OLTP statements
        server_settings={"application_name": options.get("application_name", "irpd"), "jit": "off"},
    )
