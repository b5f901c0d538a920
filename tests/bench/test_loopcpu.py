"""``bench.run --loop-cpu``: the per-minute summary of a recorded file (``python -m
bench.loopcpu DIR``, a real process as the harness runs it; no daemon)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench import REPO_ROOT, run_bench


def test_the_summary_counts_long_iterations_and_collections_per_minute(tmp_path: Path) -> None:
    data = {
        "iterations": [[1000.0, 3.0], [1010.0, 12.0], [1020.0, 25.0], [1075.0, 61.0]],
        "collections": [[1010.0, 0, 9.5], [1075.0, 1, 4.0]],
    }
    (tmp_path / "loopcpu-1.json").write_text(json.dumps(data), encoding="utf-8")
    done = run_bench("bench.loopcpu", str(tmp_path), timeout=60, check=True)
    lines = done.stdout.splitlines()
    assert lines[1] == (
        "  minute 0: iterations over 10/20/50 ms 2/1/0, longest [3.0, 12.0, 25.0]; "
        "collections over 8 ms: gen0 9.5"
    )
    assert lines[2] == (
        "  minute 1: iterations over 10/20/50 ms 1/1/1, longest [61.0]; collections over 8 ms: none"
    )
    assert (REPO_ROOT / "bench" / "loopcpu_site" / "sitecustomize.py").exists()
