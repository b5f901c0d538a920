"""Creating and dropping whole databases (embedded mode and test isolation)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

import asyncpg

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _checked(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"invalid database name {name!r}: use [a-z_][a-z0-9_]*, at most 63 chars")
    return '"' + name + '"'


def with_database(dsn: str, database: str) -> str:
    """``dsn`` pointing at another database of the same server (URI form DSNs)."""
    parts = urlsplit(dsn)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError("only postgresql:// URI DSNs are supported")
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def database_of(dsn: str) -> str:
    """The database name a URI DSN points at (``postgres`` when it names none)."""
    path = urlsplit(dsn).path.lstrip("/")
    return path or "postgres"


async def database_exists(admin_dsn: str, name: str) -> bool:
    """True when the server behind ``admin_dsn`` has a database called ``name``."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        return bool(await conn.fetchval("SELECT true FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def create_database(admin_dsn: str, name: str, *, template: str | None = None) -> None:
    """``CREATE DATABASE name [TEMPLATE template]`` on the server behind ``admin_dsn``."""
    statement = f"CREATE DATABASE {_checked(name)}"
    if template is not None:
        statement += f" TEMPLATE {_checked(template)}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def ensure_database(admin_dsn: str, name: str) -> None:
    """Create ``name`` unless it exists (tolerates a concurrent creator)."""
    if await database_exists(admin_dsn, name):
        return
    try:
        await create_database(admin_dsn, name)
    except asyncpg.DuplicateDatabaseError:
        return


async def drop_database(admin_dsn: str, name: str) -> None:
    """Drop ``name`` (``WITH (FORCE)``: open connections are terminated)."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {_checked(name)} WITH (FORCE)")
    finally:
        await conn.close()
