"""The garbage collector around loading the in-flight set.

Loading 100,000 jobs into an empty schedule allocates a few hundred thousand long-lived
objects: with the collector running, that triggers full collections over all of them (~100 ms
loop stalls). It is paused for that load, and a large load is frozen afterwards.

Only for that load: a periodic resync of a full schedule keeps the collector on. Its rows are
short-lived (it streams them step by step), and pausing the collector there only let the young
generation grow while the load ran: 200,000 objects scanned in one pass when it was re-enabled
(~60 ms of CPU; docs/performance.md, *Steady-state loop lag*).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: loading this many jobs at once moves them out of the garbage collector's full passes
FREEZE_AFTER_LOADING = 10_000


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection inside (re-enabled after, if it was enabled before)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def freeze_if_large(loaded: int) -> None:
    """Keep a large load out of full GC passes (40+ ms each at 100k jobs): it is long-lived
    now. No ``gc.collect()`` first, which would itself stall the loop that long."""
    if loaded >= FREEZE_AFTER_LOADING:
        gc.freeze()
