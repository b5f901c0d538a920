"""A small async TTL cache that also coalesces concurrent loads of the same key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class AsyncTtlCache(Generic[K, V]):
    """Values live ``ttl`` seconds; at most ``max_size`` entries (oldest evicted first).

    Concurrent callers of :meth:`get_or_load` for one key share a single load. Failed loads
    are not cached.
    """

    def __init__(
        self, *, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._entries: dict[K, tuple[float, asyncio.Future[V]]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value for ``key``, loading it with ``load()`` when absent or expired."""
        now = self._clock()
        entry = self._entries.get(key)
        if entry is None or (entry[1].done() and entry[0] <= now):
            future: asyncio.Future[V] = asyncio.ensure_future(load())
            self._entries.pop(key, None)
            self._entries[key] = (now + self._ttl, future)
            future.add_done_callback(lambda done: self._forget_failure(key, done))
            self._evict(now)
        else:
            future = entry[1]
        return await asyncio.shield(future)

    def _forget_failure(self, key: K, future: asyncio.Future[V]) -> None:
        if future.cancelled() or future.exception() is not None:
            entry = self._entries.get(key)
            if entry is not None and entry[1] is future:
                del self._entries[key]

    def _evict(self, now: float) -> None:
        if len(self._entries) <= self._max_size:
            return
        for key in [k for k, (expires, f) in self._entries.items() if f.done() and expires <= now]:
            del self._entries[key]
        while len(self._entries) > self._max_size:
            del self._entries[next(iter(self._entries))]
