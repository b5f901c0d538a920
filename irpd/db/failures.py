"""What a database failure means for irpd: wait, degrade, or stop with a configuration error.

asyncpg's exceptions are sorted here into irpd's own, so that nothing outside ``irpd.db`` has
to know SQLSTATEs:

- :class:`DatabaseUnavailable` — the database cannot be used right now (refused, timed out,
  too many clients, starting up or shutting down): retry with back-off.
- :class:`DatabaseReadOnly` — the server reached is read-only (a standby, a demoted primary,
  ``default_transaction_read_only``): an outage too; the pool's connections are replaced so
  that the next ones go to whichever host is writable.
- :class:`DatabaseDegraded` — the statement was refused for a reason retrying cannot fix by
  itself (insufficient privilege, a missing table or column, a constraint the code does not
  expect): the daemon stops that kind of write and alerts until someone fixes the cause.
- :class:`ConcurrencyConflict` — PostgreSQL aborted the work to break a deadlock or a
  serialization conflict: rolled back whole, safe to run again (irpd.db.conflicts does).
- :class:`DatabaseConfigError` — at connect time only: a DSN that does not parse, a rejected
  password, a database that does not exist. ``irpd run`` exits 2 with the cause.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import asyncpg
from asyncpg.connect_utils import SessionAttribute

from irpd.errors import ConfigError, RetryableError


class DatabaseUnavailable(RetryableError):
    """PostgreSQL cannot be reached (outage, restart, network); the operation did not happen."""

    kind = "DatabaseUnavailable"
    #: short machine-readable cause for ``irpctl status`` (``unreachable``, ``read_only``, …)
    reason = "unreachable"

    def __init__(self, message: str, *, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        #: set once the database observers have been told (a failure inside a transaction
        #: passes two translation layers)
        self.observed = False


class DatabaseReadOnly(DatabaseUnavailable):
    """The server reached does not accept writes (standby, demoted primary, read-only)."""

    kind = "DatabaseReadOnly"
    reason = "read_only"


class DatabaseDegraded(DatabaseUnavailable):
    """A statement was refused in a way only an administrator can fix (privilege, schema,
    unexpected constraint); ``query`` names what was refused."""

    kind = "DatabaseDegraded"
    reason = "degraded"

    def __init__(self, message: str, *, sqlstate: str | None, query: str = "") -> None:
        super().__init__(message, sqlstate=sqlstate)
        self.query = query


class ConcurrencyConflict(DatabaseUnavailable):
    """PostgreSQL aborted the work to break a deadlock (SQLSTATE 40P01) or a serialization
    conflict (40001), and it still did after the retries of :mod:`irpd.db.conflicts` (or
    inside a transaction, which only its caller can run again); nothing was written.

    A :class:`DatabaseUnavailable` so that every caller that copes with "not now, nothing
    happened" copes with it too: the engine's loops back off and try again, an operator is
    told to try again. It is not an outage: the database answered (observers are told so).
    """

    kind = "ConcurrencyConflict"
    reason = "conflict"

    def __init__(self, message: str, *, sqlstate: str | None, query: str = "") -> None:
        super().__init__(message, sqlstate=sqlstate)
        #: the named query that was aborted
        self.query = query


class DatabaseConfigError(ConfigError):
    """``database.dsn`` is wrong: syntax, credentials, or a database that does not exist."""

    kind = "DatabaseConfigError"


class UniqueViolation(RetryableError):
    """A unique constraint refused a write (e.g. two writers raced to create the same row).

    ``constraint`` names the constraint or unique index, so callers can tell which rule spoke.
    """

    kind = "UniqueViolation"

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


#: errors that mean "the database cannot be reached right now", not "the query is wrong"
UNAVAILABLE: tuple[type[BaseException], ...] = (
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
    # credentials rejected after start-up (a password rotated under a running daemon): the
    # daemon keeps trying and says so; at start-up the same error is a configuration error
    asyncpg.InvalidAuthorizationSpecificationError,
)

#: deadlock_detected (40P01) and serialization_failure (40001): the transaction lost a race
#: and was rolled back whole, so running it again is safe
CONFLICTS: tuple[type[BaseException], ...] = (
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)

#: refusals that retrying alone cannot fix: an administrator has to act
DEGRADED: tuple[type[BaseException], ...] = (
    asyncpg.InsufficientPrivilegeError,  # 42501
    asyncpg.UndefinedTableError,  # 42P01
    asyncpg.UndefinedColumnError,  # 42703
    asyncpg.UndefinedFunctionError,  # 42883
    asyncpg.InvalidSchemaNameError,  # 3F000
    asyncpg.IntegrityConstraintViolationError,  # class 23 except unique (handled first)
)

#: ``target_session_attrs`` values that guarantee a writable session
WRITABLE_SESSIONS = ("read-write", "primary")

NO_WRITABLE_HOST = (
    "no writable database server: every host of database.dsn refused a read-write session "
    "(a standby, a read-only server, or default_transaction_read_only = on)"
)


def _sqlstate(exc: BaseException) -> str | None:
    code = getattr(exc, "sqlstate", None)
    return str(code) if code else None


def translate(exc: BaseException, query: str = "") -> Exception | None:
    """irpd's error for an asyncpg/OS failure during ``query``; None when it is not one of
    ours to classify (a bug, or a domain error raised by irpd code)."""
    if isinstance(exc, asyncpg.UniqueViolationError):
        return UniqueViolation(str(exc), exc.constraint_name)
    if isinstance(exc, CONFLICTS):
        return ConcurrencyConflict(
            f"{type(exc).__name__}: {exc}", sqlstate=_sqlstate(exc), query=query
        )
    if isinstance(exc, asyncpg.TargetServerAttributeNotMatched):
        return DatabaseReadOnly(NO_WRITABLE_HOST)
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return DatabaseReadOnly(
            f"database is read-only: {exc} (SQLSTATE 25006)", sqlstate=_sqlstate(exc)
        )
    if isinstance(exc, DEGRADED):
        state = _sqlstate(exc)
        return DatabaseDegraded(
            f"database refused {query or 'a statement'}: {type(exc).__name__}: {exc} "
            f"(SQLSTATE {state})",
            sqlstate=state,
            query=query,
        )
    if isinstance(exc, UNAVAILABLE):
        return DatabaseUnavailable(
            f"database unavailable: {type(exc).__name__}: {exc}", sqlstate=_sqlstate(exc)
        )
    return None


def connect_error(exc: BaseException) -> DatabaseConfigError | None:
    """A configuration error for a failure to connect that no waiting will fix."""
    if isinstance(exc, asyncpg.ClientConfigurationError) or (
        isinstance(exc, ValueError) and not isinstance(exc, asyncpg.PostgresError)
    ):
        return DatabaseConfigError(f"database.dsn is not valid: {exc}")
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return DatabaseConfigError(
            f"database.dsn: the server rejected the credentials: {exc} "
            f"(SQLSTATE {_sqlstate(exc)}); check the user, password and pg_hba.conf"
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return DatabaseConfigError(
            f"database.dsn: {exc} (SQLSTATE 3D000); create it or correct the database name"
        )
    return None


def session_attrs(dsn: str) -> SessionAttribute | None:
    """``target_session_attrs`` for a connection on ``dsn``: None when the DSN names a writable
    one itself, else ``read-write`` (irpd writes: a standby is never a usable server).

    Raises :class:`DatabaseConfigError` when the DSN asks for a session irpd cannot write in.
    """
    try:
        query = parse_qs(urlsplit(dsn).query)
    except ValueError as exc:
        raise DatabaseConfigError(f"database.dsn is not valid: {exc}") from None
    wanted = query.get("target_session_attrs")
    if not wanted:
        return SessionAttribute.read_write
    if wanted[-1] not in WRITABLE_SESSIONS:
        raise DatabaseConfigError(
            f"database.dsn: target_session_attrs={wanted[-1]} cannot be written to; "
            "use read-write (or leave it out: irpd adds it)"
        )
    return None
