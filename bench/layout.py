"""Which cores the benchmark's processes run on: ``shared`` (the default) or ``split-cores``.

With everything sharing the machine's cores, the throughput phase's *ratio to statement
alone* divides the daemon's transitions/s, for which PostgreSQL, the daemon and the fake share
the cores, by PostgreSQL running the statement with every core to itself: on 2 cores it stays
near PostgreSQL's share of the CPU (~0.45) whatever the daemon does. In production PostgreSQL
has a host of its own. ``bench.run --split-cores`` emulates that on one machine: an embedded
PostgreSQL started with its CPU affinity restricted to one core (the postmaster inherits the
mask of the thread that starts it, and every backend the postmaster's), and the harness
restricted to the other cores, so that every process it starts (the daemon, the fake,
pgbench's client) inherits those. Both halves of the ratio are measured in that layout.
Linux only (``sched_setaffinity``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

SHARED = "shared"
SPLIT = "split-cores"

T = TypeVar("T")


class LayoutError(ValueError):
    """The layout cannot be had on this machine (too few usable cores)."""


@dataclass(frozen=True, slots=True)
class Layout:
    """The cores each side may use; ``postgres_cpus`` is empty when PostgreSQL is not pinned
    (``shared``: the server's own affinity, whatever it is)."""

    name: str
    harness_cpus: tuple[int, ...]
    postgres_cpus: tuple[int, ...] = ()
    #: the fake's cores when they are not the harness's (``--fake-beside-postgres``): Moody's
    #: runs on neither host in production, and on two cores it has to share one of them
    fake_cpus: tuple[int, ...] = ()

    @property
    def split(self) -> bool:
        """True when PostgreSQL and the harness have cores of their own."""
        return self.name == SPLIT


def usable_cpus() -> tuple[int, ...]:
    """The cores this process may run on."""
    return tuple(sorted(os.sched_getaffinity(0)))


def shared_layout() -> Layout:
    """Nothing pinned: the harness keeps the cores it was given."""
    return Layout(SHARED, usable_cpus())


def split_layout(
    cpus: Sequence[int] | None = None, *, fake_beside_postgres: bool = False
) -> Layout:
    """PostgreSQL on the lowest of ``cpus`` (default: the usable ones), the harness on the
    rest, the fake with the harness or (``fake_beside_postgres``) with PostgreSQL;
    :class:`LayoutError` with fewer than 2."""
    ordered = sorted(usable_cpus() if cpus is None else cpus)
    if len(ordered) < 2:
        message = (
            f"--split-cores needs at least 2 usable cores; this process may use "
            f"{len(ordered)} ({cores_text(ordered)})"
        )
        raise LayoutError(message)
    postgres = (ordered[0],)
    return Layout(SPLIT, tuple(ordered[1:]), postgres, postgres if fake_beside_postgres else ())


def affinity_of(pid: int) -> tuple[int, ...]:
    """The cores process (or thread) ``pid`` may run on."""
    return tuple(sorted(os.sched_getaffinity(pid)))


def call_pinned(cpus: Iterable[int], start: Callable[[], T]) -> T:
    """``start()`` with the calling thread restricted to ``cpus``: the processes it starts
    keep them. The thread's own mask is restored afterwards."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(cpus))
    try:
        return start()
    finally:
        os.sched_setaffinity(0, before)


@contextmanager
def process_pinned(cpus: Iterable[int]) -> Iterator[None]:
    """Every thread of this process restricted to ``cpus`` for the block (threads and
    processes started meanwhile inherit it); each thread's mask restored afterwards."""
    wanted = set(cpus)
    before: dict[int, set[int]] = {}
    for tid in _threads():
        try:
            before[tid] = os.sched_getaffinity(tid)
            os.sched_setaffinity(tid, wanted)
        except ProcessLookupError:  # the thread ended meanwhile
            continue
    try:
        yield
    finally:
        for tid, mask in before.items():
            try:
                os.sched_setaffinity(tid, mask)
            except ProcessLookupError:
                continue


def _threads(pid: int | str = "self") -> list[int]:
    return [int(name) for name in os.listdir(Path(f"/proc/{pid}/task"))]


def pin_process(pid: int, cpus: Iterable[int]) -> tuple[int, ...]:
    """Every thread of process ``pid`` restricted to ``cpus`` (threads it starts later
    inherit it); the cores its main thread may then run on."""
    wanted = set(cpus)
    for tid in _threads(pid):
        try:
            os.sched_setaffinity(tid, wanted)
        except ProcessLookupError:  # the thread ended meanwhile
            continue
    return affinity_of(pid)


def cores_text(cpus: Iterable[int]) -> str:
    """``0``, ``1-3``, ``0,2``: a list of cores as ``taskset -c`` writes it."""
    ordered = sorted(set(cpus))
    if not ordered:
        return "none"
    runs: list[list[int]] = [[ordered[0], ordered[0]]]
    for cpu in ordered[1:]:
        if cpu == runs[-1][1] + 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def describe(layout: Layout) -> str:
    """The layout for the report's machine line."""
    harness = cores_text(layout.harness_cpus)
    if layout.split and layout.fake_cpus:
        return (
            f"split-cores: PostgreSQL and the fake on core(s) "
            f"{cores_text(layout.postgres_cpus)}; harness, daemon and pgbench on core(s) {harness}"
        )
    if layout.split:
        return (
            f"split-cores: PostgreSQL on core(s) {cores_text(layout.postgres_cpus)}; harness, "
            f"daemon, fake and pgbench on core(s) {harness}"
        )
    return f"shared: harness, daemon and fake on core(s) {harness}; PostgreSQL not pinned"
