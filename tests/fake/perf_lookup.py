"""Measure the fake at scale (not a test): 100,000 live workflows, batched ids= lookups.

Run: .venv/bin/python tests/fake/perf_lookup.py [N]
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import sys
import time

import aiohttp

from irpd.moodys.fake import FakeMoodys, FakeSettings
from irpd.moodys.fake.render import View
from irpd.moodys.fake.routes_workflows import rm_record
from irpd.moodys.fake.workflow_json import workflow_list_json

BODY = {
    "edm": "RM_EDM_202401_Perf",
    "currency": {"code": "USD", "scheme": "RMS", "asOfDate": "2024-01-01", "vintage": "RL23"},
    "modelProfileId": 4001,
    "outputProfileId": 1,
    "eventRateSchemeId": 700,
    "treaties": [101, 102],
    "exposureType": "PORTFOLIO",
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main(total: int) -> None:
    settings = FakeSettings(seed=1, time_scale=60.0, quota=2000)
    async with FakeMoodys.running(settings) as fake:
        ctx = fake.context
        headers = {"Authorization": fake.api_key}
        async with aiohttp.ClientSession(fake.base_url, headers=headers) as session:
            # 1. submissions over HTTP (a sample), the rest in-process
            sample = 2000
            started = time.perf_counter()
            for i in range(sample):
                body = {**BODY, "jobName": f"PERF_HTTP_{i}"}
                async with session.post(
                    "/riskmodeler/v2/portfolios/7/process",
                    json=body,
                    headers={"X-RMS-RequestId": f"perf-{i}"},
                ) as resp:
                    assert resp.status == 202
            http_rate = sample / (time.perf_counter() - started)
            rss_before = rss_mb()
            started = time.perf_counter()
            text = json.dumps(BODY)
            for i in range(total - sample):
                ctx.simulation.submit(
                    workflow_type="ANALYTICS_JOB",
                    name=f"PERF_{i}",
                    body_text=text,
                    summary={"edm": "E", "portfolioId": "7"},
                )
            direct_rate = (total - sample) / (time.perf_counter() - started)
            print(
                f"submit over HTTP (sequential): {http_rate:,.0f}/s; "
                f"in-process: {direct_rate:,.0f}/s; "
                f"max RSS {rss_before:.0f} -> {rss_mb():.0f} MB for {total:,} workflows"
            )

            first = settings.first_workflow_id
            ids = [str(first + i) for i in range(0, total, total // 1000)][:1000]
            timings = []
            for _ in range(20):
                started = time.perf_counter()
                async with session.get(
                    "/riskmodeler/v1/workflows", params={"ids": ",".join(ids), "limit": "1000"}
                ) as resp:
                    data = await resp.json()
                timings.append((time.perf_counter() - started) * 1000)
            assert len(data["workflows"]) == 1000, data["totalMatchCount"]
            print(
                f"ids= lookup of 1,000 over HTTP: median {statistics.median(timings):.1f} ms, "
                f"min {min(timings):.1f} ms (response {len(json.dumps(data)) / 1e6:.2f} MB)"
            )

            now = ctx.simulation.now()
            view = View(now=now, base_url=fake.base_url, tenant="t", user="u", paused=False)
            started = time.perf_counter()
            for _ in range(20):
                workflow_list_json(1000, [rm_record(ctx, i) for i in ids], view)
            per = (time.perf_counter() - started) / 20 * 1000
            print(f"server-side lookup+render+encode of 1,000: {per:.1f} ms")

            started = time.perf_counter()
            for _ in range(1000):
                ctx.simulation.now()
            print(
                f"quota sweep per request (steady state): "
                f"{(time.perf_counter() - started) * 1000:.3f} µs"
            )
            started = time.perf_counter()
            fake.advance(3600 * 4)
            print(
                f"sweep after 4 simulated hours (admits/releases a backlog): "
                f"{(time.perf_counter() - started) * 1000:.1f} ms; "
                f"state {fake.context.simulation.describe_queue()}"
            )
            started = time.perf_counter()
            counts = fake.state()
            print(
                f"counts over all workflows: {(time.perf_counter() - started) * 1000:.1f} ms "
                f"{counts}"
            )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
