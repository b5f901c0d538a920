"""The fake Moody's of the benchmark, in a process of its own (it shares the machine's cores
with the daemon, as a real deployment's network peer would not, which is the stated condition).

Zero added latency, frozen simulated time (``time_scale=0``: a workflow keeps its status until
the harness advances the clock), and three bench-only admin routes next to the fake's own:

* ``POST /__fake__/bench/workflows {"count": N, "name_prefix": P}``: create N workflows
  in-process (no HTTP per workflow); answers the first and last workflow id;
* ``GET /__fake__/bench/requests?since=SEQ&until=EPOCH``: a summary of the request log;
* ``GET /__fake__/bench/ledger?since=SEQ``: a summary of the submission ledger.

``python -m bench.fake_server`` prints ``bench-fake listening on URL`` and serves until
SIGTERM/SIGINT or until its parent process goes away.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Sequence

from aiohttp import web

from irpd.moodys.fake import FakeMoodys, FakeSettings
from irpd.moodys.fake.context import context_of

LISTENING = "bench-fake listening on "
#: request-log capacity: a 100,000-job sweep plus a 10,000-job submission fit many times
REQUEST_LOG_LIMIT = 1_000_000


async def create_workflows(request: web.Request) -> web.Response:
    """Create ``count`` USER_DEFINED workflows named ``<prefix><1..count>``."""
    body = await request.json()
    count = int(body["count"])
    prefix = str(body.get("name_prefix", "irpd-bench-"))
    simulation = context_of(request).simulation
    started = time.perf_counter()
    ids = [
        simulation.submit(workflow_type="USER_DEFINED", name=f"{prefix}{index}", body_text="{}").id
        for index in range(1, count + 1)
    ]
    return web.json_response(
        {
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


def _route(method: str, path: str) -> str:
    """``GET /riskmodeler/v1/workflows/123`` → ``GET /riskmodeler/v1/workflows/{id}``."""
    parts = ["{id}" if part.isdigit() else part for part in path.split("/")]
    return f"{method} {'/'.join(parts)}"


def _ids_in(query: str) -> int:
    for pair in query.split("&"):
        if pair.startswith("ids="):
            value = pair[4:]
            return value.count("%2C") + value.count(",") + 1 if value else 0
    return 0


async def request_summary(request: web.Request) -> web.Response:
    """Requests after ``since`` (sequence) that arrived before ``until`` (epoch seconds)."""
    since = int(request.query.get("since", "0"))
    until = float(request.query.get("until", "inf"))
    routes: Counter[str] = Counter()
    ids = non_2xx = 0
    first = last = None
    last_seq = since
    for record in context_of(request).requests.records():
        last_seq = max(last_seq, record.seq)
        if record.seq <= since or record.wall_time > until:
            continue
        routes[_route(record.method, record.path)] += 1
        ids += _ids_in(record.query)
        non_2xx += not 200 <= record.status < 300
        first = record.wall_time if first is None else min(first, record.wall_time)
        last = record.wall_time if last is None else max(last, record.wall_time)
    return web.json_response(
        {
            "last_seq": last_seq,
            "requests": sum(routes.values()),
            "routes": dict(routes),
            "ids_requested": ids,
            "non_2xx": non_2xx,
            "first_wall": first,
            "last_wall": last,
        }
    )


async def ledger_summary(request: web.Request) -> web.Response:
    """Submissions after ``since`` (ledger sequence): first-time, replays, refused."""
    since = int(request.query.get("since", "0"))
    entries = [e for e in context_of(request).ledger.entries() if e.seq > since]
    return web.json_response(
        {
            "last_seq": max((e.seq for e in entries), default=since),
            "accepted": sum(e.accepted and not e.replay for e in entries),
            "replays": sum(e.replay for e in entries),
            "refused": sum(not e.accepted for e in entries),
        }
    )


def add_bench_routes(app: web.Application) -> None:
    """Register the bench-only admin routes (before the app starts)."""
    app.router.add_post("/__fake__/bench/workflows", create_workflows)
    app.router.add_get("/__fake__/bench/requests", request_summary)
    app.router.add_get("/__fake__/bench/ledger", ledger_summary)


def bench_settings(seed: int = 1) -> FakeSettings:
    """Zero latency, no faults, no quota, frozen time."""
    return FakeSettings(seed=seed, time_scale=0.0, quota=None, request_log_limit=REQUEST_LOG_LIMIT)


async def serve(settings: FakeSettings) -> None:
    """Serve until a stop signal or until the parent process is gone."""
    fake = FakeMoodys(settings)
    add_bench_routes(fake.app)
    await fake.start()
    print(f"{LISTENING}{fake.base_url}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    parent = os.getppid()
    try:
        while not stop.is_set() and os.getppid() == parent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    finally:
        await fake.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bench.fake_server``."""
    parser = argparse.ArgumentParser(prog="python -m bench.fake_server")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    asyncio.run(serve(bench_settings(args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
