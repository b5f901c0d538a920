"""CI smoke test of the scale benchmark: the real harness, a tiny N, every figure present.

No timing is asserted: figures are reported by ``python -m bench.run``, never judged here.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

from tests.bench import run_bench

JOBS = 200

#: figures the issue asks for, by where they live in the JSON
SIZE_FIGURES = {
    "sweep": (
        "sweep_s",
        "status_requests",
        "start_to_loaded_s",
        "start_to_first_full_sweep_s",
        "transitions",
        "log_lines_max_30s",
        "loop_lag",
    ),
    "throughput": (
        "transitions_per_second",
        "pgbench_tps",
        "ratio_to_pgbench",
        "statement_alone_per_second",
        "ratio_to_statement_alone",
        "loop_lag",
    ),
    "memory": ("rss_mb", "bytes_per_job", "baseline_rss_mb"),
    "control": ("batch_show_p50_ms", "batch_show_p99_ms", "status_p50_ms", "status_p99_ms"),
}
SUBMISSION_FIGURES = ("seconds", "requests_per_job", "submit_requests", "replays", "loop_lag")
MACHINE_FIGURES = ("cores", "postgres_version", "python")


def _pgbench_available() -> bool:
    """What bench.pgbench looks for: pgbench on PATH, or the one the pgserver wheel ships."""
    if shutil.which("pgbench"):
        return True
    spec = importlib.util.find_spec("pgserver")
    if spec is None or spec.origin is None:
        return False
    return (Path(spec.origin).parent / "pginstall" / "bin" / "pgbench").exists()


def _nulls(value: Any, path: str = "") -> list[str]:
    """Paths of every null leaf in a JSON document."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _nulls(item, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _nulls(item, f"{path}[{index}]")]
    return []


def test_harness_runs_and_writes_every_figure(pg_admin_dsn: str, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    result = run_bench(
        "bench.run",
        "--sizes",
        str(JOBS),
        "--submit-jobs",
        str(JOBS),
        "--control-calls",
        "10",
        "--pgbench-scale",
        "1",
        "--pgbench-seconds",
        "1",
        "--phase-timeout",
        "60",
        "--listing-jobs",
        str(JOBS),
        "--listing-settle",
        "0",
        "--web-pages",
        "2",
        "--web-page-every",
        "0.5",
        "--dsn",
        pg_admin_dsn,
        "--out",
        str(out),
        timeout=110,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert f"N={JOBS}" in result.stdout
    # --web-pages: an `irpd web` beside every daemon, its event streams open until the stop
    assert "console with 2 event streams (2 open at the end" in result.stderr, result.stderr

    report = json.loads(out.read_text(encoding="utf-8"))
    assert [size["jobs"] for size in report["sizes"]] == [JOBS]
    size = report["sizes"][0]
    assert size["errors"] == []
    assert report["submission"]["errors"] == []
    for section, names in SIZE_FIGURES.items():
        for name in names:
            assert name in size[section], f"{section}.{name} missing"
    for name in SUBMISSION_FIGURES:
        assert name in report["submission"], f"submission.{name} missing"
    for name in MACHINE_FIGURES:
        assert name in report["machine"], f"machine.{name} missing"

    nulls = _nulls(report)
    # status inside the daemon *during* the listing: only if a call overlapped its few pages
    nulls = [p for p in nulls if not p.endswith(("server_status_p50_ms", "server_status_p99_ms"))]
    if not _pgbench_available():  # no pgbench anywhere: the only figures allowed to be absent
        nulls = [p for p in nulls if not p.endswith(("pgbench_tps", "ratio_to_pgbench"))]
    assert nulls == []
    assert size["sweep"]["transitions"] == JOBS
    assert size["throughput"]["transitions"] == JOBS
    assert report["submission"]["jobs"] == JOBS
    assert report["listing"]["rows"] == JOBS
