"""``--web-pages P``: the web console open while the daemon tracks (issue 14).

For every daemon of a run the harness starts a real ``irpd web`` on the daemon's database and
a load process (``python -m bench.webload``, its own process so that the harness's own timing
is not disturbed) that keeps P server-sent-event streams open (``/events``, as P open pages
do) and, with ``--web-page-every S``, requests the batch page of the newest batch every S
seconds. Both run from the daemon's start to its stop, so every phase's daemon figures (sweep,
loop lag, control latency, throughput) are measured with the console open; :meth:`stop`
returns what the console did meanwhile (events delivered, page times, CPU of the console).

    python -m bench.webload URL --dsn DSN --pages 50 --page-every 0.5 --out FILE

runs until SIGTERM, then writes its figures (JSON) to FILE; FILE with the suffix ``.ready``
appears once every stream is open.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.cpu import process_cpu
from bench.figures import percentile, rounded
from bench.stopping import stop_process
from bench.web import TOKEN, start_console, wait_ready


def _end(process: subprocess.Popen[bytes]) -> float:
    """SIGTERM ``process`` and wait (SIGKILL after 30 s); the CPU seconds it had used."""
    used = process_cpu(process.pid) or 0.0
    stop_process(process)
    return used


@dataclass(frozen=True, slots=True)
class ConsoleFigures:
    """What the console did while one daemon ran."""

    pages: int
    streams_open_at_end: int
    events_per_stream_min: int
    events_per_stream_max: int
    batch_page_requests: int
    batch_page_failures: int
    batch_page_p50_ms: float | None
    batch_page_p99_ms: float | None
    web_cpu_s: float
    load_cpu_s: float

    def line(self, name: str) -> str:
        """One human line for the progress output."""
        return (
            f"{name}: console with {self.pages} event streams ({self.streams_open_at_end} "
            f"open at the end, {self.events_per_stream_min}-{self.events_per_stream_max} "
            f"batch events each), {self.batch_page_requests} batch pages "
            f"({self.batch_page_failures} failed) p50 {self.batch_page_p50_ms} ms p99 "
            f"{self.batch_page_p99_ms} ms; CPU s: irpd web {self.web_cpu_s}, "
            f"load generator {self.load_cpu_s}"
        )


class ConsoleLoad:
    """``irpd web`` on ``dsn`` plus the load process, for the life of one daemon."""

    def __init__(self, dsn: str, workdir: Path, pages: int, page_every: float | None) -> None:
        self._dsn = dsn
        self._dir = workdir
        self._pages = pages
        self._page_every = page_every
        self._out = workdir / "webload.json"
        self._web: subprocess.Popen[bytes] | None = None
        self._load: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the console and the load process; return once every page is open (blocking,
        at most 60 s: RuntimeError then)."""
        self._web, url = start_console(self._dsn, self._dir)
        command = [sys.executable, "-m", "bench.webload", url, "--dsn", self._dsn]
        command += ["--pages", str(self._pages), "--out", str(self._out)]
        if self._page_every is not None:
            command += ["--page-every", str(self._page_every)]
        with (self._dir / "webload.log").open("wb") as log:
            self._load = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        ready = self._out.with_suffix(".ready")
        deadline = time.monotonic() + 60
        while not ready.exists():  # every page open before the daemon starts
            if self._load.poll() is not None or time.monotonic() > deadline:
                log_text = (self._dir / "webload.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"the console's pages did not open:\n{log_text}")
            time.sleep(0.05)

    def stop(self) -> ConsoleFigures | None:
        """Stop the load process (it writes its figures), then the console; blocking."""
        load_cpu = 0.0 if self._load is None else _end(self._load)
        web_cpu = 0.0 if self._web is None else _end(self._web)
        if not self._out.exists():
            return None
        data = json.loads(self._out.read_text(encoding="utf-8"))
        return ConsoleFigures(**data, web_cpu_s=round(web_cpu, 2), load_cpu_s=round(load_cpu, 2))


async def _stream(
    session: aiohttp.ClientSession, url: str, counts: list[int], i: int, opened: asyncio.Queue[int]
) -> None:
    async with session.get(f"{url}/events", timeout=aiohttp.ClientTimeout(total=None)) as sse:
        if sse.status != 200:
            raise RuntimeError(f"/events: HTTP {sse.status}")
        await sse.content.readuntil(b"\n\n")  # the hello: this page is open
        opened.put_nowait(i)
        while True:
            event = await sse.content.readuntil(b"\n\n")
            if event.startswith(b"event: batches"):
                counts[i] += 1


async def _pages(
    session: aiohttp.ClientSession,
    base: str,
    dsn: str,
    every: float,
    samples: list[float],
    failed: list[int],
) -> None:
    url = f"{base}/batches/{await _newest_batch(dsn)}"
    while True:
        began = time.perf_counter()
        try:
            async with session.get(url) as answer:
                await answer.read()
                if answer.status == 200:
                    samples.append((time.perf_counter() - began) * 1000)
                else:
                    failed[0] += 1
        except aiohttp.ClientError:
            failed[0] += 1
        await asyncio.sleep(max(0.0, every - (time.perf_counter() - began)))


async def _newest_batch(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            batch_id = await conn.fetchval("SELECT max(id) FROM irp_batch")
            if batch_id is not None:
                return int(batch_id)
            await asyncio.sleep(0.5)
    finally:
        await conn.close()


async def generate(
    url: str, dsn: str, pages: int, page_every: float | None, ready: Path
) -> dict[str, Any]:
    """Hold ``pages`` streams open (and request the batch page) until SIGTERM; the figures.

    ``ready`` is created once every stream has its first event (all pages open)."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    counts = [0] * pages
    samples: list[float] = []
    failed = [0]
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connector = aiohttp.TCPConnector(limit=pages + 4)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        await wait_ready(session, url, None)
        opened: asyncio.Queue[int] = asyncio.Queue()
        tasks = [
            asyncio.create_task(_stream(session, url, counts, i, opened)) for i in range(pages)
        ]
        for _ in range(pages):
            await opened.get()
        await asyncio.to_thread(ready.touch)
        if page_every is not None:
            page = _pages(session, url, dsn, page_every, samples, failed)
            tasks.append(asyncio.create_task(page))
        await stop.wait()
        open_at_end = sum(1 for task in tasks[:pages] if not task.done())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "pages": pages,
        "streams_open_at_end": open_at_end,
        "events_per_stream_min": min(counts, default=0),
        "events_per_stream_max": max(counts, default=0),
        "batch_page_requests": len(samples),
        "batch_page_failures": failed[0],
        "batch_page_p50_ms": rounded(percentile(samples, 50), 1),
        "batch_page_p99_ms": rounded(percentile(samples, 99), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.webload``"""
    parser = argparse.ArgumentParser(
        prog="python -m bench.webload", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("url", help="the console's base URL")
    parser.add_argument("--dsn", required=True, help="the console's database (newest batch)")
    parser.add_argument("--pages", type=int, default=50, help="open event streams")
    parser.add_argument("--page-every", type=float, help="seconds between batch-page requests")
    parser.add_argument("--out", type=Path, required=True, help="figures (JSON), at SIGTERM")
    args = parser.parse_args(argv)
    ready = args.out.with_suffix(".ready")
    figures = asyncio.run(generate(args.url, args.dsn, args.pages, args.page_every, ready))
    args.out.write_text(json.dumps(figures) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
