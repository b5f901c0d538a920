"""Which irpd the benchmark measured: where the package was imported from, its git commit,
and the product files that differed from that commit (the daemon runs the working tree)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import irpd

PRODUCT_PATHS = ("irpd", "statemachines", "sql")


@dataclass(frozen=True, slots=True)
class Provenance:
    """The measured product: source directory, commit (None outside git), changed files."""

    source: str
    commit: str | None
    changed_files: tuple[str, ...]


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def product_provenance() -> Provenance:
    """The irpd that ``irpd run`` (same interpreter, same path) will import."""
    root = Path(irpd.__file__).resolve().parents[1]
    commit = _git(root, "rev-parse", "--short=12", "HEAD")
    status = _git(root, "status", "--porcelain", "--", *PRODUCT_PATHS) if commit else None
    changed = tuple(line[3:] for line in (status or "").splitlines() if line.strip())
    return Provenance(str(root), commit.strip() if commit else None, changed)
