"""Loaded at start-up by every Python process with this folder on ``PYTHONPATH``; acts only in
``irpd run`` with ``BENCH_LOOPCPU_DIR`` set (``bench.run --loop-cpu DIR``; diagnosis only).

Records, in CPU time of the loop's thread (``time.thread_time``, which the machine's load does
not inflate the way it does wall time), every event-loop iteration over 2 ms and every garbage
collection over 2 ms, and writes them as JSON to ``DIR/loopcpu-<pid>.json`` when the process
exits. :mod:`bench.loopcpu` summarises them.
"""

from __future__ import annotations

import os
import sys


def _install(folder: str) -> None:
    import asyncio.base_events
    import atexit
    import gc
    import json
    import time
    from typing import Any

    iterations: list[tuple[float, float]] = []  # (unix time, ms of CPU)
    collections: list[tuple[float, int, float]] = []  # (unix time, generation, ms of CPU)
    started = {"cpu": 0.0}
    original = asyncio.base_events.BaseEventLoop._run_once  # type: ignore[attr-defined]

    def run_once(self: asyncio.base_events.BaseEventLoop) -> None:
        cpu = time.thread_time()
        try:
            original(self)
        finally:
            spent = time.thread_time() - cpu
            if spent > 0.002:
                iterations.append((time.time(), round(spent * 1000, 2)))

    def collected(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started["cpu"] = time.thread_time()
            return
        spent = time.thread_time() - started["cpu"]
        if spent > 0.002:
            collections.append((time.time(), int(info["generation"]), round(spent * 1000, 2)))

    def write() -> None:
        path = os.path.join(folder, f"loopcpu-{os.getpid()}.json")
        with open(path, "w", encoding="utf-8") as out:
            json.dump({"iterations": iterations, "collections": collections}, out)

    asyncio.base_events.BaseEventLoop._run_once = run_once  # type: ignore[attr-defined]
    gc.callbacks.append(collected)
    atexit.register(write)


_FOLDER = os.environ.get("BENCH_LOOPCPU_DIR")
if _FOLDER and "run" in sys.argv[1:2] and os.path.basename(sys.argv[0]).startswith("irpd"):
    _install(_FOLDER)
