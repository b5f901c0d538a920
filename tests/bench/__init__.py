"""The benchmark's CI tests: each runs a ``bench`` module as the harness is run (its own
process, from the repository's root)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_bench(
    module: str, *args: str, timeout: float, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """``python -m <module> <args>`` from the repository's root, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )
