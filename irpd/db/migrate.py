"""Apply ``sql/migrations`` in order: idempotent, recorded, safe when two run at once."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

import sql
from irpd.db.database import Database
from irpd.errors import PermanentError

log = structlog.get_logger(__name__)


class MigrationError(PermanentError):
    """The database's recorded migrations do not match the ones this irpd ships."""

    kind = "MigrationError"


@dataclass(frozen=True, slots=True)
class MigrationReport:
    """What :func:`migrate` found and did."""

    applied: tuple[int, ...]
    already: tuple[int, ...]


async def migrate(db: Database) -> MigrationReport:
    """Apply every pending migration, each in its own transaction under an advisory lock.

    A migration already applied is skipped; one whose text changed since it was applied is an
    error (edit history is never rewritten in place: add a new migration instead).
    """
    applied: list[int] = []
    already: list[int] = []
    for migration in sql.load_migrations():
        async with db.transaction() as tx:
            await tx.execute("migration_lock")
            await tx.execute("migration_table_create")
            done = {row["version"]: row for row in await tx.fetch("migration_applied")}
            if migration.version in done:
                if done[migration.version]["checksum"] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} was changed after "
                        "it was applied; add a new migration instead of editing it"
                    )
                already.append(migration.version)
                continue
            await tx.execute_script(migration.sql)
            await tx.execute(
                "migration_record", migration.version, migration.name, migration.checksum
            )
            applied.append(migration.version)
            log.info("db_migration_applied", version=migration.version, name=migration.name)
    return MigrationReport(applied=tuple(applied), already=tuple(already))


async def pending(db: Database) -> list[int]:
    """Versions of shipped migrations not yet applied."""
    async with db.transaction() as tx:
        await tx.execute("migration_table_create")
        done = {row["version"] for row in await tx.fetch("migration_applied")}
    return [m.version for m in sql.load_migrations() if m.version not in done]
