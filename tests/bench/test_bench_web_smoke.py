"""CI smoke test of the web console benchmark (``python -m bench.web``): the real harness on
a tiny batch, every figure present. No timing is asserted (figures: docs/performance.md)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench import run_bench

FIGURES = (
    "batch_page",
    "jobs_api_first_page",
    "jobs_api_failed_filter",
    "jobs_api_sorted_by_last_change",
    "jobs_api_search_workflow_id",
    "jobs_api_search_name_part",
    "batch_api",
)


def test_web_bench_runs_and_prints_every_figure(pg_admin_dsn: str, tmp_path: Path) -> None:
    out = tmp_path / "web.json"
    result = run_bench(
        "bench.web",
        "--jobs",
        "200",
        "--requests",
        "2",
        "--pages",
        "3",
        "--dsn",
        pg_admin_dsn,
        "--out",
        str(out),
        timeout=110,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["jobs"] == 200
    for name in FIGURES:
        assert report[name]["p50_ms"] is not None, name
        assert report[name]["bytes"] > 0, name
    assert report["sse"]["pages"] == 3
    assert report["sse"]["all_pages_notified_ms"] is not None
