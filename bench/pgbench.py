"""``pgbench -N -c 2 -j 2``: the server's own commit rate, the yardstick for transitions/s."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_TPS = re.compile(r"^tps = ([0-9.]+)", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class PgbenchResult:
    """TPS of ``pgbench -N`` (None when pgbench is missing or failed, with the reason)."""

    tps: float | None
    scale: int
    seconds: int
    clients: int = 2
    threads: int = 2
    error: str | None = None


def pgbench_binary() -> str | None:
    """``pgbench`` on PATH, else the one the pgserver wheel ships."""
    found = shutil.which("pgbench")
    if found:
        return found
    try:
        import pgserver
    except ImportError:
        return None
    bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pgbench"
    return str(bundled) if bundled.exists() else None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)


def run_pgbench(dsn: str, *, scale: int, seconds: int) -> PgbenchResult:
    """Initialise pgbench's tables (scale ``scale``) in the database ``dsn`` points at, then
    run the simple-update script (-N) with 2 clients and 2 threads for ``seconds``."""
    binary = pgbench_binary()
    if binary is None:
        return PgbenchResult(None, scale, seconds, error="pgbench not found")
    init = _run([binary, "-i", "-q", "-s", str(scale), dsn], timeout=600)
    if init.returncode != 0:
        return PgbenchResult(None, scale, seconds, error=f"pgbench -i: {init.stderr[-500:]}")
    bench = _run(
        [binary, "-N", "-c", "2", "-j", "2", "-T", str(seconds), dsn], timeout=seconds + 120
    )
    match = _TPS.search(bench.stdout)
    if bench.returncode != 0 or match is None:
        return PgbenchResult(None, scale, seconds, error=f"pgbench: {bench.stderr[-500:]}")
    return PgbenchResult(float(match.group(1)), scale, seconds)


async def run_pgbench_async(dsn: str, *, scale: int, seconds: int) -> PgbenchResult:
    """:func:`run_pgbench` in a thread."""
    return await asyncio.to_thread(run_pgbench, dsn, scale=scale, seconds=seconds)
