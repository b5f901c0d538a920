"""What the benchmark measures, as frozen records (JSON via :func:`dataclasses.asdict`).

A figure that could not be measured (a phase failed or timed out) is ``None``; the reason is
in the size's ``errors``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.cpu import CpuFigures
from bench.layout import Layout
from bench.provenance import Provenance


def percentile(samples: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0..100) of ``samples``; None when there are none."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def rounded(value: float | None, digits: int = 3) -> float | None:
    """``value`` rounded, None kept."""
    return None if value is None else round(value, digits)


@dataclass(frozen=True, slots=True)
class LoopLag:
    """``irpctl status`` → engine.event_loop_lag right after a phase (its last ~60 s)."""

    p50_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None


@dataclass(frozen=True, slots=True)
class SweepFigures:
    """Start with N SUBMITTED jobs whose workflows Moody's reports QUEUED, default settings:
    recovery (start → loaded → first full sweep) and the sweep itself."""

    transitions: int
    start_to_ready_s: float | None
    start_to_loaded_s: float | None
    start_to_first_full_sweep_s: float | None
    sweep_s: float | None
    status_requests: int | None
    ids_requested: int | None
    other_requests: int | None
    loop_lag: LoopLag
    cpu: CpuFigures
    log_lines: int
    log_lines_max_30s: int


@dataclass(frozen=True, slots=True)
class ThroughputFigures:
    """Restart with every job due at once (recovery spread 0), Moody's now reporting RUNNING:
    committed transitions per second, against ``pgbench -N -c 2 -j 2`` on the same database."""

    transitions: int
    seconds: float | None
    transitions_per_second: float | None
    status_requests: int | None
    start_to_loaded_s: float | None
    pgbench_tps: float | None
    ratio_to_pgbench: float | None
    #: the tracker's bulk statement alone, same chunks, no daemon (bench/pgonly.py)
    statement_alone_per_second: float | None
    ratio_to_statement_alone: float | None
    loop_lag: LoopLag
    cpu: CpuFigures
    #: CPU µs per transition within first status request → last write (bench.cpu.CpuTrace):
    #: what the daemon and the fake spend per transition, whatever else the machine runs
    daemon_us_per_transition: float | None
    fake_us_per_transition: float | None
    log_lines_max_30s: int


@dataclass(frozen=True, slots=True)
class MemoryFigures:
    """The daemon's resident memory with N jobs tracked, after the first sweep."""

    rss_mb: float
    peak_rss_mb: float
    baseline_rss_mb: float | None
    bytes_per_job: float | None


@dataclass(frozen=True, slots=True)
class ControlFigures:
    """Sequential control calls (a fresh connection each, like ``irpctl``) while tracking,
    and what tracking the N jobs cost meanwhile (steady state after the first sweep)."""

    calls: int
    batch_show_p50_ms: float | None
    batch_show_p99_ms: float | None
    status_p50_ms: float | None
    status_p99_ms: float | None
    tracking_status_requests: int | None = None
    tracking_ids_requested: int | None = None
    tracking_cpu: CpuFigures | None = None


@dataclass(frozen=True, slots=True)
class SizeResult:
    """Every figure for one N."""

    jobs: int
    seed_seconds: float | None = None
    sweep: SweepFigures | None = None
    memory: MemoryFigures | None = None
    control: ControlFigures | None = None
    throughput: ThroughputFigures | None = None
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SubmissionFigures:
    """``batch.submit`` of a multi_job batch of ``jobs`` jobs until all are SUBMITTED."""

    jobs: int
    seconds: float | None
    submissions_per_second: float | None
    submit_requests: int | None
    other_requests: int | None
    poll_ids_requested: int | None
    requests_per_job: float | None
    replays: int | None
    loop_lag: LoopLag
    cpu: CpuFigures | None
    log_lines_max_30s: int
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Machine:
    """Where the figures were taken."""

    cores: int
    python: str
    platform: str
    postgres_version: str
    postgres_server: str
    synchronous_commit: str
    fsync: str
    shared_buffers: str
    #: which cores the harness (and every process it starts) and PostgreSQL ran on
    layout: Layout
    load_average_before: tuple[float, float, float]
    load_average_after: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """The knobs the benchmark set on the daemon; every other setting is the default."""

    sizes: tuple[int, ...]
    requests_per_second: float
    status_batch_size: int
    throughput_overrides: dict[str, str]
    control_calls: int
    submit_jobs: int
    pgbench_scale: int
    pgbench_seconds: int
    fake: str = "bench.fake_server subprocess: zero latency, no faults, frozen time"


@dataclass(frozen=True, slots=True)
class ListingFigures:
    """The listing of every job of an N-job batch while N are tracked."""

    jobs: int
    rows: int | None = None
    pages: int | None = None
    megabytes: float | None = None
    seconds: float | None = None
    first_page_ms: float | None = None
    page_p50_ms: float | None = None
    page_max_ms: float | None = None
    status_calls: int | None = None
    status_p50_ms: float | None = None
    status_p99_ms: float | None = None
    status_max_ms: float | None = None
    status_without_listing_p50_ms: float | None = None
    status_without_listing_p99_ms: float | None = None
    rss_before_mb: float | None = None
    rss_max_mb: float | None = None
    loop_lag_before: LoopLag | None = None
    loop_lag_after: LoopLag | None = None
    moodys_latency_s: float = 0.0
    #: inside the daemon (its ``control_answered`` events): request read → first byte written
    server_first_page_ms: float | None = None
    server_page_p50_ms: float | None = None
    server_page_max_ms: float | None = None
    #: CPU the loop spent on a page's timed steps (converting rows, encoding pieces): per page
    #: (p50 / max) and the longest single step, i.e. the longest hold of the loop by a page
    page_loop_cpu_p50_ms: float | None = None
    page_loop_cpu_max_ms: float | None = None
    page_loop_step_max_ms: float | None = None
    pages_with_full_gc: int | None = None
    #: the first page of every kind of listing, asked repeatedly after the full listing
    first_pages: int | None = None
    server_first_pages_p50_ms: float | None = None
    server_first_pages_max_ms: float | None = None
    #: the concurrent status calls inside the daemon (request read → answer written)
    server_status_p50_ms: float | None = None
    server_status_p99_ms: float | None = None
    server_status_without_listing_p99_ms: float | None = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    """The whole benchmark run."""

    generated_at: str
    command: str
    product: Provenance
    machine: Machine
    settings: BenchSettings
    baseline_rss_mb: float | None
    sizes: tuple[SizeResult, ...]
    submission: SubmissionFigures | None
    notes: tuple[str, ...] = field(default=())
    listing: ListingFigures | None = None
