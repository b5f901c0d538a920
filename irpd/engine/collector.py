"""The garbage collector around loading the in-flight set.

Loading 100,000 jobs allocates a few hundred thousand long-lived objects: with the collector
running, that triggers full collections over all of them (~100 ms loop stalls). It is paused
for the load, and a large load is frozen afterwards.
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
