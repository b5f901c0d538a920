"""The quick start's main job: ``irpd demo`` runs the whole sample cycle and exits 0; with
``--keep`` it leaves a rehearsal stack running, on which the README's rehearsal block (every
``irpctl`` line of it, run by bash as written) must succeed."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from irpd.demo import BATCH_ORDER
from tests.processes import HarnessError, eventually
from tests.unit.cli.test_readme_commands import README, shell_blocks

ROOT = README.parent


def _rehearsal_block() -> str:
    blocks = [b for b in shell_blocks(README.read_text(encoding="utf-8")) if "JOB=$(" in b]
    assert len(blocks) == 1, "the README has one rehearsal block"
    return blocks[0]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(pids: list[int]) -> None:
    """SIGTERM the kept daemon and fake (not our children: poll until they are gone)."""
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)

    def gone() -> bool | None:
        return True if not any(_alive(pid) for pid in pids) else None

    with contextlib.suppress(HarnessError):
        eventually(gone, f"pids {pids} to exit", 60)


@pytest.mark.e2e
@pytest.mark.timeout(420)
def test_demo_runs_the_sample_cycle_and_keeps_a_rehearsal_stack() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPD_")}
    state = Path("/tmp") / f"irpd-demo-test-{os.getpid()}"  # short: AF_UNIX paths are bounded
    pids: list[int] = []
    try:
        result = subprocess.run(
            # x3600 like the other end-to-end tests (the default x900 only waits longer)
            [
                sys.executable,
                "-m",
                "irpd.cli.main",
                "demo",
                "--keep",
                "--time-scale",
                "3600",
                "--state-dir",
                str(state),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=280,
            check=False,
        )
        output = result.stdout + result.stderr
        killed = re.search(r"^stop them with: kill (\d+) (\d+)", result.stdout, re.MULTILINE)
        pids = [int(p) for p in killed.groups()] if killed else []
        assert result.returncode == 0, output
        assert "cycle COMPLETED" in output
        for batch_type in BATCH_ORDER:
            assert batch_type in output
        assert "resubmitted with an override" in output
        exported = re.search(r"^export IRPD_CONTROL_SOCKET=(\S+)$", result.stdout, re.MULTILINE)
        assert exported, output
        assert len(pids) == 2, output

        # the README's rehearsal, as written, on the stack the demo left running
        shell_env = {
            **env,
            "IRPD_CONTROL_SOCKET": exported.group(1),
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        }
        rehearsal = subprocess.run(
            ["bash", "-e", "-c", _rehearsal_block()],
            cwd=ROOT,
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert rehearsal.returncode == 0, rehearsal.stdout + rehearsal.stderr
        assert "+ event_rate: RMS 2023 Long Term Event Rates" in rehearsal.stdout
        assert "next action    PROCEED" in rehearsal.stdout
        assert "Traceback" not in rehearsal.stderr
    finally:
        _stop(pids)
        shutil.rmtree(state, ignore_errors=True)
