"""The demo's final reconciliation lines up its columns whatever the counts' widths."""

from __future__ import annotations

import pytest

from irpd.demo import _print_recon


def _recon(fulfilled: int, total: int, counts: dict[str, int]) -> dict[str, object]:
    summary = {"fulfilled_configs": fulfilled, "total_configs": total,
               "total_jobs": sum(counts.values()), "job_status_counts": counts}
    return {"status": "COMPLETED", "summary": summary}


def test_the_final_reconciliation_lines_up(capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = {1: _recon(2, 2, {"FINISHED": 2}),
                7: _recon(10, 10, {"FINISHED": 10, "SKIPPED": 1})}
    assert _print_recon(outcomes)
    lines = capsys.readouterr().out.splitlines()[2:]
    assert lines == [
        "  batch 1   COMPLETED  configs 2/2    jobs 2:  2 finished",
        "  batch 7   COMPLETED  configs 10/10  jobs 11: 10 finished, 1 skipped",
    ]
