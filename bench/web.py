"""The web console at scale: request times of the batch page and of the jobs API for a batch
of N jobs (default 100,000), and the server-sent-event fan-out to many open pages.

    python -m bench.web                      # 100,000 jobs, 50 requests per figure
    python -m bench.web --jobs 1000 --requests 5 --pages 10 --out web.json

A fresh database (local server on 127.0.0.1:5432, or ``--dsn``, else embedded) is seeded with
one ACTIVE batch of N SUBMITTED jobs; a real ``irpd web`` process serves it on loopback and
this process requests each page ``--requests`` times, one at a time, and reports p50/p99 of
the round trip (on loopback: the server's time plus well under a millisecond). Then
``--pages`` event streams are opened and one status change of the batch is committed: the
figure is how long until every stream has the event, and how many database reads the console
made for it (one, whatever the number of pages). Figures are printed as JSON; nothing is
judged here (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.benchdb import BenchDb, choose_server, drop, fresh_database
from bench.figures import percentile, rounded
from bench.stopping import stop_process
from irpd.web.auth import hash_password, token_digest

TOKEN = "bench-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_console(dsn: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A real ``irpd web`` on ``dsn`` (viewer token ``TOKEN``, log in ``workdir``); its URL."""
    accounts = workdir / "accounts.toml"
    accounts.write_text(
        f'[users.bench]\nrole = "viewer"\npassword_hash = "{hash_password("bench-pass")}"\n'
        f'[tokens.bench]\nrole = "viewer"\ntoken_sha256 = "{token_digest(TOKEN)}"\n',
        encoding="utf-8",
    )
    port = _free_port()
    env = {
        **os.environ,
        "IRPD_DATABASE_DSN": dsn,
        "IRPD_STATE_DIR": str(workdir / "state"),
        "IRPD_WEB_LISTEN": f"127.0.0.1:{port}",
        "IRPD_WEB_ACCOUNTS_FILE": str(accounts),
        "IRPD_LOGGING_FORMAT": "json",
        "IRPD_LOGGING_LEVEL": "warning",
    }
    log = (workdir / "web.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "irpd.cli.main", "web"], env=env, stdout=log, stderr=log
    )
    return proc, f"http://127.0.0.1:{port}"


async def wait_ready(
    session: aiohttp.ClientSession, url: str, proc: subprocess.Popen[bytes] | None
) -> None:
    """Until ``url`` answers ``/healthz`` (RuntimeError if ``proc`` exits or after 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"irpd web exited with {proc.returncode}")
        try:
            async with session.get(f"{url}/healthz") as answer:
                if answer.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError("irpd web did not answer within 60 s")


async def _timed(session: aiohttp.ClientSession, url: str, requests: int) -> dict[str, Any]:
    samples: list[float] = []
    size = 0
    async with session.get(url) as warm:  # one request first: templates, plans, caches
        await warm.read()
    for _ in range(requests):
        started = time.perf_counter()
        async with session.get(url) as answer:
            body = await answer.read()
            if answer.status != 200:
                raise RuntimeError(f"{url}: HTTP {answer.status}: {body[:200]!r}")
        samples.append((time.perf_counter() - started) * 1000)
        size = len(body)
    return {
        "p50_ms": rounded(percentile(samples, 50), 1),
        "p99_ms": rounded(percentile(samples, 99), 1),
        "bytes": size,
    }


async def _fan_out(
    session: aiohttp.ClientSession, url: str, dsn: str, batch_id: int, pages: int
) -> dict[str, Any]:
    streams = [await session.get(f"{url}/events") for _ in range(pages)]
    try:
        for stream in streams:  # each stream says hello first
            await stream.content.readuntil(b"\n\n")
        conn = await asyncpg.connect(dsn)
        try:
            started = time.perf_counter()
            await conn.execute(
                "UPDATE irp_job SET status = 'RUNNING' WHERE id = "
                "(SELECT min(id) FROM irp_job WHERE batch_id = $1)",
                batch_id,
            )

            async def until_batches(stream: aiohttp.ClientResponse) -> float:
                while True:
                    event = await stream.content.readuntil(b"\n\n")
                    if event.startswith(b"event: batches"):
                        return (time.perf_counter() - started) * 1000

            delays = await asyncio.wait_for(
                asyncio.gather(*(until_batches(s) for s in streams)), 30
            )
        finally:
            await conn.close()
    finally:
        for stream in streams:
            stream.close()
    return {
        "pages": pages,
        "all_pages_notified_ms": rounded(max(delays), 1),
        "first_page_notified_ms": rounded(min(delays), 1),
    }


async def run(jobs: int, requests: int, pages: int, dsn: str | None) -> dict[str, Any]:
    """Seed, serve, measure; the figures."""
    workdir = Path(tempfile.mkdtemp(prefix="irpd-bench-web-"))
    server = await choose_server(dsn, workdir)
    database = await fresh_database(server.admin_dsn, "web")
    proc: subprocess.Popen[bytes] | None = None
    try:
        seeding = time.perf_counter()
        bench_db = await BenchDb.connect(database)
        try:
            batch_id = await bench_db.seed_in_flight(jobs, 50_000_000)
        finally:
            await bench_db.close()
        seeded_s = time.perf_counter() - seeding
        proc, url = start_console(database, workdir)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            await wait_ready(session, url, proc)
            api = f"{url}/api/v1/batches/{batch_id}"
            figures = {
                "batch_page": await _timed(session, f"{url}/batches/{batch_id}", requests),
                "jobs_api_first_page": await _timed(session, f"{api}/jobs?limit=100", requests),
                "jobs_api_failed_filter": await _timed(
                    session, f"{api}/jobs?limit=100&status=FAILED", requests
                ),
                "jobs_api_sorted_by_last_change": await _timed(
                    session, f"{api}/jobs?limit=100&sort=-changed", requests
                ),
                "jobs_api_search_workflow_id": await _timed(
                    session, f"{api}/jobs?limit=100&q=50000123", requests
                ),
                "jobs_api_search_name_part": await _timed(
                    session, f"{api}/jobs?limit=100&q=no-such-name", requests
                ),
                "batch_api": await _timed(session, api, requests),
                "sse": await _fan_out(session, url, database, batch_id, pages),
            }
        return {
            "jobs": jobs,
            "requests": requests,
            "seeded_s": round(seeded_s, 1),
            "server": server.description,
            **figures,
        }
    finally:
        if proc is not None:
            stop_process(proc)
        await drop(server.admin_dsn, database)
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.web``"""
    parser = argparse.ArgumentParser(
        prog="python -m bench.web", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--pages", type=int, default=50, help="open event streams")
    parser.add_argument("--dsn", help="an admin DSN of the PostgreSQL server to use")
    parser.add_argument("--out", type=Path, help="also write the figures (JSON) to this file")
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.jobs, args.requests, args.pages, args.dsn))
    text = json.dumps(figures, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
