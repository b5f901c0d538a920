"""A PostgreSQL cluster of one test's own (the embedded pgserver build), that the test may stop
and start again: the session's shared server is never disturbed."""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from irpd.db.database import Database
from irpd.db.embedded import EmbeddedPostgres
from irpd.db.migrate import migrate
from irpd.db.provision import create_database, with_database


class DedicatedPostgres:
    """An embedded cluster in ``root`` with stop/start of the server process."""

    def __init__(self, root: Path) -> None:
        self.server = EmbeddedPostgres(root / "pgdata")
        self.admin_dsn = ""
        self._socket_dir = ""

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory."""
        return self.server.data_dir

    def start(self) -> str:
        """Initialise and start the cluster; return its superuser DSN."""
        self.admin_dsn = self.server.start()
        lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        self._socket_dir = lines[4]
        return self.admin_dsn

    def new_database(self) -> str:
        """A fresh migrated database on this cluster; its DSN."""
        name = f"irpd_chaos_{uuid.uuid4().hex[:10]}"

        async def create() -> None:
            await create_database(self.admin_dsn, name)
            db = await Database.connect(with_database(self.admin_dsn, name), max_size=1)
            try:
                await migrate(db)
            finally:
                await db.close()

        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, create()).result(timeout=120)
        return with_database(self.admin_dsn, name)

    def stop_server(self) -> None:
        """``pg_ctl stop -m fast``: every connection is cut, new ones are refused."""
        self.server.pg_ctl("stop", "-m", "fast")

    def start_server(self) -> None:
        """Start the stopped server again on the same socket directory (same DSN)."""
        pg_ctl: Any = importlib.import_module("pgserver._commands").pg_ctl
        user = "pgserver" if os.geteuid() == 0 else None
        pg_ctl(
            ["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}",
             "-l", str(self.data_dir / "log"), "start"],
            pgdata=self.data_dir, user=user, timeout=60,
        )

    def destroy(self) -> None:
        """Stop the server and delete the cluster."""
        self.server.destroy()
