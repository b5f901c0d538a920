"""The quick start's main job: ``irpd demo`` runs the whole sample cycle and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from irpd.demo import BATCH_ORDER


@pytest.mark.e2e
@pytest.mark.timeout(300)
def test_demo_runs_the_sample_cycle_to_completion(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPD_")}
    state = Path("/tmp") / f"irpd-demo-test-{os.getpid()}"  # short: AF_UNIX paths are bounded
    result = subprocess.run(
        [sys.executable, "-m", "irpd.cli.main", "demo", "--state-dir", str(state)],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "cycle COMPLETED" in output
    for batch_type in BATCH_ORDER:
        assert batch_type in output
    assert "resubmitted with an override" in output
    assert not state.exists(), "a successful demo cleans up after itself"
