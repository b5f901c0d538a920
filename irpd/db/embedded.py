"""An embedded PostgreSQL server (the ``pgserver`` wheel) for machines with no DSN configured."""

from __future__ import annotations

import asyncio
import importlib
import os
import shutil
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)


def _import_pgserver() -> Any:
    # pgserver resolves a runtime dir at import and warns when XDG_RUNTIME_DIR is unset.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    return pgserver


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL cluster kept in ``data_dir``, started on demand and stopped by :meth:`stop`.

    The server listens on a Unix socket only. Starting is idempotent across processes: a server
    already running on the same directory (e.g. after ``kill -9`` of a daemon) is reused.
    """

    data_dir: Path
    _server: Any = field(default=None, init=False, repr=False)

    def start(self) -> str:
        """Initialise (first time) and start the cluster; return its DSN."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        pgserver = _import_pgserver()
        self._server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
        dsn = str(self._server.get_uri())
        log.info("embedded_postgres_started", data_dir=str(self.data_dir))
        return dsn

    async def start_async(self) -> str:
        """:meth:`start` without blocking the event loop."""
        return await asyncio.to_thread(self.start)

    def stop(self) -> None:
        """Stop the cluster if this process started or attached to it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded_postgres_stopped", data_dir=str(self.data_dir))

    def restart(self) -> None:
        """Stop and start the server process in place (used by reliability tests)."""
        self.pg_ctl("restart", "-m", "fast")

    def pg_ctl(self, *args: str) -> None:
        """Run ``pg_ctl`` on this cluster as the server's own system user."""
        pgserver = _import_pgserver()
        pg_ctl = importlib.import_module("pgserver._commands").pg_ctl

        user = "pgserver" if os.geteuid() == 0 else None
        socket_dir = self._socket_dir()
        extra = ["-o", '-h ""', "-o", f"-k {socket_dir}"] if socket_dir else []
        pg_ctl(["-w", *extra, *args], pgdata=self.data_dir, user=user, timeout=30)
        del pgserver

    def _socket_dir(self) -> str | None:
        pid_file = self.data_dir / "postmaster.pid"
        if not pid_file.exists():
            return None
        lines = pid_file.read_text().splitlines()
        return lines[4] if len(lines) > 4 else None

    def destroy(self) -> None:
        """Stop the server and delete its data directory."""
        self.stop()
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir, ignore_errors=True)
