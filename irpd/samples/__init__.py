"""Sample workbooks shipped with irpd: a realistic cycle and a generic jobs workbook.

``sample_path("sample_cycle.xlsx")`` gives the installed file; regenerate both with
``python -m irpd.samples.build``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Final

from irpd.samples.cycle_data import DEMO_FAILING_ANALYSIS

SAMPLE_CYCLE_FILE: Final = "sample_cycle.xlsx"
GENERIC_JOBS_FILE: Final = "generic_jobs.xlsx"


def sample_path(name: str = SAMPLE_CYCLE_FILE) -> Path:
    """The installed path of a shipped sample workbook."""
    path = Path(str(files(__name__).joinpath(name)))
    if not path.is_file():
        raise FileNotFoundError(f"no sample workbook {name!r} at {path}")
    return path


def sample_bytes(name: str = SAMPLE_CYCLE_FILE) -> bytes:
    """The bytes of a shipped sample workbook (works from any kind of installation)."""
    return files(__name__).joinpath(name).read_bytes()


__all__ = [
    "DEMO_FAILING_ANALYSIS",
    "GENERIC_JOBS_FILE",
    "SAMPLE_CYCLE_FILE",
    "sample_bytes",
    "sample_path",
]
