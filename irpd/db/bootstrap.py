"""Open the configured database: an external DSN, or the embedded server in the state dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import structlog

from irpd.config import DatabaseConfig
from irpd.db.database import Database
from irpd.db.embedded import EmbeddedPostgres
from irpd.db.migrate import MigrationError, migrate, pending
from irpd.db.provision import ensure_database, with_database

log = structlog.get_logger("irpd.db")


@dataclass
class OpenedDatabase:
    """A connected database and, in embedded mode, the server irpd started for it."""

    db: Database
    embedded: EmbeddedPostgres | None
    description: str

    async def close(self) -> None:
        """Close the pool, then stop the embedded server if irpd started one."""
        await self.db.close()
        if self.embedded is not None:
            self.embedded.stop()


async def open_database(
    config: DatabaseConfig, state_dir: Path, *, migrate_now: bool | None = None
) -> OpenedDatabase:
    """Connect (starting the embedded server when no DSN is configured) and migrate."""
    embedded: EmbeddedPostgres | None = None
    if config.dsn:
        dsn = config.dsn
        description = "external"
    else:
        embedded = EmbeddedPostgres(state_dir / "pgdata")
        server_dsn = await embedded.start_async()
        await ensure_database(server_dsn, config.name)
        dsn = with_database(server_dsn, config.name)
        description = f"embedded ({state_dir / 'pgdata'})"
    try:
        db = await Database.connect(
            dsn,
            min_size=config.pool_min_size,
            max_size=config.pool_max_size,
            command_timeout=config.command_timeout,
        )
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    opened = OpenedDatabase(db, embedded, description)
    try:
        if config.migrate_on_start if migrate_now is None else migrate_now:
            report = await migrate(db)
            log.info("db_migrated", applied=list(report.applied), already=len(report.already))
        else:
            missing = await pending(db)
            if missing:
                raise MigrationError(
                    f"database is missing migrations {missing}; run 'irpd db migrate' "
                    "or set database.migrate_on_start = true"
                )
    except BaseException:
        await opened.close()
        raise
    return opened
