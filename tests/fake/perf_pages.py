"""The fake's CPU per workflow on ``ids=`` status pages, asked as the benchmark asks them
(not a test).

The benchmark's fake (``python -m bench.fake_server``: frozen clock, no quota) in a process
of its own, N workflows created in it, then every one of them looked up over HTTP in
``ids=`` pages of 860 (what the daemon sends), five times: QUEUED (the first render of each
record, which renders what never changes), QUEUED again, RUNNING after the clock moves (the
throughput phase: each start time rendered for the first time), RUNNING again and FINISHED
(each end time rendered for the first time). The
figure is the fake process's user + system CPU (``/proc``, 10 ms ticks) over the pages,
request parsing and response writing included, divided by N; RSS from ``/proc`` too.

Run from the repository root: PYTHONPATH=. .venv/bin/python tests/fake/perf_pages.py [N] [PAGE]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import aiohttp

from bench.cpu import process_cpu
from bench.fake_client import FakeProcess

#: simulated seconds that take the benchmark's workflows from QUEUED to RUNNING
TO_RUNNING = 300.0
#: and then from RUNNING to FINISHED (USER_DEFINED runs for at most an hour)
TO_FINISHED = 3700.0


def rss_mb(pid: int) -> float:
    """Resident set size of a process now."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def look_up_all(session: aiohttp.ClientSession, ids: list[str], page: int) -> int:
    """Every id once, in pages; how many workflows came back."""
    found = 0
    for start in range(0, len(ids), page):
        chunk = ids[start : start + page]
        params = {"ids": ",".join(chunk), "limit": str(len(chunk))}
        async with session.get("/riskmodeler/v1/workflows", params=params) as response:
            response.raise_for_status()
            body = await response.read()
        found += body.count(b'"taskId":1,')
    return found


async def main(total: int, page: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        fake = FakeProcess(Path(folder) / "fake.log")
        await fake.start()
        try:
            started_rss = rss_mb(fake.pid)
            first = await fake.create_workflows(total)
            ids = [str(first + i) for i in range(total)]
            print(f"{total:,} workflows: RSS {started_rss:.0f} -> {rss_mb(fake.pid):.0f} MB")
            headers = {"Authorization": "fake-api-key"}
            async with aiohttp.ClientSession(fake.base_url, headers=headers) as session:
                for label, advance in (
                    ("QUEUED, first render", 0.0),
                    ("QUEUED, again", 0.0),
                    ("RUNNING, first render", TO_RUNNING),
                    ("RUNNING, again", 0.0),
                    ("FINISHED, first render", TO_FINISHED),
                ):
                    if advance:
                        await fake.advance(advance)
                    before = process_cpu(fake.pid)
                    found = await look_up_all(session, ids, page)
                    after = process_cpu(fake.pid)
                    assert found == total, found
                    assert before is not None
                    assert after is not None
                    print(
                        f"{label}: {(after - before) / total * 1e6:.1f} µs of the fake's CPU "
                        f"per workflow (pages of {page})"
                    )
            print(f"after the lookups: RSS {rss_mb(fake.pid):.0f} MB")
        finally:
            await fake.stop()


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:3]]
    asyncio.run(main(*arguments[:1] or [100_000], *arguments[1:2] or [860]))
