"""The benchmark's outputs: a JSON document and a plain-text table with the targets."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.cpu import CpuFigures
from bench.figures import Report, SizeResult, SubmissionFigures
from bench.layout import describe

Getter = Callable[[SizeResult], Any]


def _pair(a: Any, b: Any) -> str:
    return f"{_fmt(a)} / {_fmt(b)}"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 100 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _get(path: str) -> Getter:
    """``"sweep.sweep_s"`` → a getter that yields None when a part is missing."""

    def getter(result: SizeResult) -> Any:
        value: Any = result
        for name in path.split("."):
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    return getter


def _cpu(path: str) -> Getter:
    cpu = _get(path)
    return lambda r: _cpu_text(cpu(r))


def _two(first: str, second: str) -> Getter:
    a, b = _get(first), _get(second)
    return lambda r: _pair(a(r), b(r))


#: (label, getter, target at N = 100,000)
SIZE_ROWS: tuple[tuple[str, Getter, str], ...] = (
    ("sweep: transitions written", _get("sweep.transitions"), "N"),
    ("sweep: first poll -> last write (s)", _get("sweep.sweep_s"), "<= 10"),
    ("sweep: status requests", _get("sweep.status_requests"), "<= 1,000"),
    ("sweep: workflow ids asked (re-polls incl.)", _get("sweep.ids_requested"), ""),
    ("recovery: start -> ready (s)", _get("sweep.start_to_ready_s"), ""),
    ("recovery: start -> all N loaded (s)", _get("sweep.start_to_loaded_s"), "<= 3"),
    ("recovery: start -> first full sweep (s)", _get("sweep.start_to_first_full_sweep_s"), "<= 15"),
    ("memory: RSS with N tracked (MB)", _get("memory.rss_mb"), "<= 250"),
    ("memory: bytes per job (RSS - idle RSS)/N", _get("memory.bytes_per_job"), ""),
    ("memory: peak RSS (MB)", _get("memory.peak_rss_mb"), ""),
    (
        "control: batch show p50 / p99 (ms)",
        _two("control.batch_show_p50_ms", "control.batch_show_p99_ms"),
        "p99 <= 20",
    ),
    (
        "control: status p50 / p99 (ms)",
        _two("control.status_p50_ms", "control.status_p99_ms"),
        "p99 <= 20",
    ),
    ("while controlling: status requests", _get("control.tracking_status_requests"), ""),
    ("while controlling: workflow ids asked", _get("control.tracking_ids_requested"), ""),
    ("while controlling CPU s: irpd/fake/pg/other", _cpu("control.tracking_cpu"), ""),
    (
        "loop lag after sweep p50 / p99 (ms)",
        _two("sweep.loop_lag.p50_ms", "sweep.loop_lag.p99_ms"),
        "p99 <= 50",
    ),
    ("loop lag after sweep max (ms)", _get("sweep.loop_lag.max_ms"), ""),
    ("log lines, most in 30 s (sweep run)", _get("sweep.log_lines_max_30s"), "< 10,000"),
    ("sweep CPU s: irpd / fake / pg / other", _cpu("sweep.cpu"), ""),
    ("throughput: transitions written", _get("throughput.transitions"), "N"),
    ("throughput: first poll -> last write (s)", _get("throughput.seconds"), ""),
    ("throughput: transitions/s", _get("throughput.transitions_per_second"), "~28,000"),
    ("throughput: pgbench -N -c2 -j2 TPS", _get("throughput.pgbench_tps"), ""),
    ("throughput: ratio to pgbench", _get("throughput.ratio_to_pgbench"), ">= 10"),
    (
        "throughput: statement alone (transitions/s)",
        _get("throughput.statement_alone_per_second"),
        "",
    ),
    ("throughput: ratio to statement alone", _get("throughput.ratio_to_statement_alone"), ">= 0.8"),
    (
        "throughput: loop lag p50 / p99 (ms)",
        _two("throughput.loop_lag.p50_ms", "throughput.loop_lag.p99_ms"),
        "p99 <= 50",
    ),
    ("throughput: status requests", _get("throughput.status_requests"), ""),
    ("throughput: log lines, most in 30 s", _get("throughput.log_lines_max_30s"), "< 10,000"),
    ("throughput CPU s: irpd / fake / pg / other", _cpu("throughput.cpu"), ""),
    (
        "throughput: CPU us per transition irpd / fake",
        _two("throughput.daemon_us_per_transition", "throughput.fake_us_per_transition"),
        "",
    ),
)

SUBMISSION_ROWS: tuple[tuple[str, Callable[[SubmissionFigures], Any], str], ...] = (
    ("jobs", lambda s: s.jobs, "10,000"),
    ("batch.submit -> all SUBMITTED (s)", lambda s: s.seconds, "<= 10"),
    ("submissions/s", lambda s: s.submissions_per_second, ""),
    ("submission requests per job", lambda s: s.requests_per_job, "1"),
    ("status requests meanwhile (polls)", lambda s: s.other_requests, ""),
    ("workflow ids those polls asked", lambda s: s.poll_ids_requested, ""),
    ("replayed submissions", lambda s: s.replays, "0"),
    ("loop lag p50 / p99 (ms)", lambda s: _pair(s.loop_lag.p50_ms, s.loop_lag.p99_ms), "p99 <= 50"),
    ("log lines, most in 30 s", lambda s: s.log_lines_max_30s, "< 10,000"),
    ("CPU s: irpd / fake / pg / other", lambda s: _cpu_text(s.cpu), ""),
)


def _cpu_text(cpu: CpuFigures | None) -> str:
    if cpu is None:
        return "-"
    return (
        f"{_fmt(cpu.daemon_s)} / {_fmt(cpu.fake_s)} / {_fmt(cpu.postgres_s)} / "
        f"{_fmt(cpu.other_s)} in {_fmt(cpu.wall_s)}"
    )


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(header))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [
        " | ".join(
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        )
        for row in rows
    ]
    return "\n".join(lines)


def _markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---", *("--:" for _ in header[1:])]) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render_table(report: Report, *, markdown: bool = False) -> str:
    """The figures as text (or Markdown): one column per N, then the target at N = 100,000."""
    grid = _markdown if markdown else _grid
    m = report.machine
    s = report.settings
    p = report.product
    head = (
        f"irpd scale benchmark, {report.generated_at}\n"
        f"machine: {m.cores} cores, {m.platform}, Python {m.python}; PostgreSQL "
        f"{m.postgres_version} ({m.postgres_server}; synchronous_commit={m.synchronous_commit}, "
        f"fsync={m.fsync}, shared_buffers={m.shared_buffers}); load average before "
        f"{m.load_average_before[0]:.2f}, after {m.load_average_after[0]:.2f}\n"
        f"layout {describe(m.layout)}\n"
        f"irpd from {p.source} at {p.commit or 'no git commit'}"
        f"{' + changed: ' + ', '.join(p.changed_files) if p.changed_files else ''}\n"
        f"client rate limit {_rate(s.requests_per_second)}; status batch size "
        f"{s.status_batch_size}; every other daemon setting is the default\n"
    )
    header = ["figure", *(f"N={r.jobs:,}" for r in report.sizes), "target (N=100,000)"]
    rows = [
        [label, *(_fmt(get(r)) for r in report.sizes), target] for label, get, target in SIZE_ROWS
    ]
    parts = [head, grid(header, rows)]
    if report.submission is not None:
        sub = report.submission
        sub_rows = [[label, _fmt(get(sub)), target] for label, get, target in SUBMISSION_ROWS]
        parts += [
            "",
            "submission (default concurrency limits)",
            grid(["figure", "value", "target"], sub_rows),
        ]
    errors = [f"N={r.jobs:,}: {e}" for r in report.sizes for e in r.errors]
    if report.submission is not None:
        errors += [f"submission: {e}" for e in report.submission.errors]
    if errors:
        parts += ["", "errors:", *errors]
    if report.notes:
        parts += ["", "notes:", *report.notes]
    return "\n".join(parts) + "\n"


def as_json(report: Report) -> dict[str, Any]:
    """The report as plain data."""
    return dataclasses.asdict(report)


def write_json(report: Report, path: Path) -> None:
    """Write the report as indented JSON (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_json(report), indent=2) + "\n", encoding="utf-8")


def _rate(requests_per_second: float) -> str:
    """The client rate limit the daemons ran with (0: the product's defaults)."""
    if requests_per_second > 0:
        return f"{requests_per_second:g} req/s (initial = max)"
    return "the product's defaults (moodys.requests_per_second, max_requests_per_second)"
