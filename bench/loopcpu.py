"""``bench.run --loop-cpu DIR``: the daemons' own event-loop work in CPU time (diagnosis).

The loop-lag figures are wall time: on a shared machine they include the time the daemon waits
for a core. With ``--loop-cpu`` every ``irpd run`` the benchmark starts loads
``bench/loopcpu_site/sitecustomize.py`` (through ``PYTHONPATH``), which records the CPU time
of every event-loop iteration and garbage collection over 2 ms; :func:`summarise` turns each
daemon's file into the longest iterations and collections, per 60 s of its life. How long
the loop is held by the daemon's own work, whatever the machine's load (docs/performance.md,
*Steady-state loop lag*).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

SITE = Path(__file__).resolve().parent / "loopcpu_site"


def environ_for(folder: Path) -> dict[str, str]:
    """The variables that make the daemons record into ``folder`` (for ``os.environ``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(p for p in (str(SITE), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path, "BENCH_LOOPCPU_DIR": str(folder.resolve())}


def _over(values: list[float], limit: float) -> int:
    return sum(1 for value in values if value > limit)


def summarise_file(path: Path) -> str:
    """One daemon: per minute of its life, loop iterations over 10/20/50 ms of CPU and the
    five longest; collections over 8 ms of CPU."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    iterations: list[list[float]] = data["iterations"]
    collections: list[list[float]] = data["collections"]
    if not iterations:
        return f"{path.name}: no loop iteration over 2 ms of CPU\n"
    start = iterations[0][0]
    lines = [f"{path.name} (ms of CPU; minutes from the first iteration over 2 ms):"]
    minutes = int((iterations[-1][0] - start) // 60) + 1
    for minute in range(minutes):
        low, high = start + 60 * minute, start + 60 * (minute + 1)
        spent = sorted(ms for at, ms in iterations if low <= at < high)
        passes = [f"gen{int(g)} {ms:g}" for at, g, ms in collections if low <= at < high and ms > 8]
        lines.append(
            f"  minute {minute}: iterations over 10/20/50 ms {_over(spent, 10)}/"
            f"{_over(spent, 20)}/{_over(spent, 50)}, longest {spent[-5:]}; "
            f"collections over 8 ms: {', '.join(passes) or 'none'}"
        )
    return "\n".join(lines) + "\n"


def summarise(folder: Path) -> str:
    """Every daemon's file in ``folder``."""
    files = sorted(folder.glob("loopcpu-*.json"), key=lambda p: p.stat().st_mtime)
    return "".join(summarise_file(path) for path in files) or f"{folder}: no files\n"


if __name__ == "__main__":
    import sys

    print(summarise(Path(sys.argv[1])), end="")
