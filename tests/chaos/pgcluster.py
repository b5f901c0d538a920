"""A PostgreSQL cluster of one test's own (the embedded pgserver build), that the test may stop
and start again, and a streaming-replication standby of it that the test may promote: the
session's shared server is never disturbed."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import pwd
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg

from irpd.db.database import Database
from irpd.db.embedded import EmbeddedPostgres
from irpd.db.migrate import migrate
from irpd.db.provision import create_database, with_database

#: the system user pgserver runs PostgreSQL as when the tests run as root
SERVER_USER = "pgserver" if os.geteuid() == 0 else None


def _pg(command: str) -> Any:
    """A PostgreSQL client program of the pgserver build, as a function (see pgserver)."""
    return getattr(importlib.import_module("pgserver._commands"), command)


def run_sql(dsn: str, *statements: str) -> None:
    """Run statements on ``dsn`` (one connection, in order; from synchronous tests)."""

    async def work() -> None:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, work()).result(timeout=120)


@contextlib.contextmanager
def connections_held(dsn: str, count: int) -> Iterator[int]:
    """Hold up to ``count`` connections on ``dsn`` open (in a thread of their own) until the
    block ends; yields how many were opened (opening stops at the server's refusal)."""
    opened = threading.Event()
    release = threading.Event()
    held: list[int] = []

    async def hold() -> None:
        conns = []
        try:
            for _ in range(count):
                try:
                    conns.append(await asyncpg.connect(dsn, timeout=10))
                except asyncpg.TooManyConnectionsError:
                    break
            held.append(len(conns))
            opened.set()
            await asyncio.to_thread(release.wait)
        finally:
            opened.set()
            for conn in conns:
                with contextlib.suppress(Exception):  # the server may have gone meanwhile
                    await conn.close()

    thread = threading.Thread(target=asyncio.run, args=(hold(),), daemon=True)
    thread.start()
    opened.wait(120)
    try:
        yield held[0] if held else 0
    finally:
        release.set()
        thread.join(60)


def as_user(dsn: str, user: str) -> str:
    """``dsn`` (this module's socket form, ``postgresql://postgres:@/db?host=…``) as ``user``."""
    return dsn.replace("postgresql://postgres:@", f"postgresql://{user}@", 1)


def multi_host(database: str, *socket_dirs: str, user: str = "postgres") -> str:
    """A multi-host DSN over the servers' socket directories; irpd finds the writable one."""
    hosts = ",".join(socket_dirs)
    return f"postgresql://{user}@/{database}?host={hosts}&target_session_attrs=read-write"


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

    @property
    def socket_dir(self) -> str:
        """Where the server's Unix socket is (its "host" in a DSN)."""
        return self._socket_dir

    def new_database(self, owner: str | None = None) -> str:
        """A fresh migrated database on this cluster; its DSN. With ``owner``, that role (not
        a superuser: privileges and connection limits apply to it) is created, owns the
        database and its tables, and the DSN connects as it."""
        name = f"irpd_chaos_{uuid.uuid4().hex[:10]}"

        async def create() -> None:
            if owner is None:
                await create_database(self.admin_dsn, name)
            else:
                conn = await asyncpg.connect(self.admin_dsn, timeout=10)
                try:
                    await conn.execute(f"CREATE ROLE {owner} LOGIN")
                    await conn.execute(f"CREATE DATABASE {name} OWNER {owner}")
                finally:
                    await conn.close()
            db = await Database.connect(dsn, max_size=1)
            try:
                await migrate(db)
            finally:
                await db.close()

        dsn = with_database(self.admin_dsn, name)
        if owner is not None:
            dsn = as_user(dsn, owner)
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, create()).result(timeout=120)
        return dsn

    def standby(self, root: Path) -> Standby:
        """A streaming-replication standby of this server in ``root`` (``pg_basebackup -R``),
        started on a socket directory of its own."""
        root.mkdir(parents=True, mode=0o700)
        if SERVER_USER is not None:
            user = pwd.getpwnam(SERVER_USER)
            os.chown(root, user.pw_uid, user.pw_gid)
        _pg("pg_basebackup")(
            ["-D", str(root), "-R", "-X", "stream", "-c", "fast", "-h", self._socket_dir,
             "-U", "postgres"],
            user=SERVER_USER, timeout=120,
        )  # fmt: skip
        for leftover in (*root.glob(".s.PGSQL.*"), root / "postmaster.pid"):
            leftover.unlink(missing_ok=True)  # the primary's socket lock came along
        standby = Standby(root)
        standby.start()
        return standby

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


class Standby:
    """A hot standby replicating from a :class:`DedicatedPostgres`; promote it to fail over."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    @property
    def socket_dir(self) -> str:
        """Its Unix socket directory (its data directory)."""
        return str(self.data_dir)

    def start(self) -> None:
        """Start the server (read-only until promoted)."""
        _pg("pg_ctl")(
            ["-w", "-o", '-h ""', "-o", f"-k {self.data_dir}",
             "-l", str(self.data_dir / "log"), "start"],
            pgdata=self.data_dir, user=SERVER_USER, timeout=60,
        )  # fmt: skip

    def promote(self) -> None:
        """``pg_ctl promote``: the standby becomes a writable primary."""
        _pg("pg_ctl")(["-w", "promote"], pgdata=self.data_dir, user=SERVER_USER, timeout=60)

    def stop(self) -> None:
        """Stop the server if it runs."""
        if (self.data_dir / "postmaster.pid").exists():
            _pg("pg_ctl")(
                ["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=SERVER_USER, timeout=60
            )
