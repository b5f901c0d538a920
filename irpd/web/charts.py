"""Small charts rendered on the server as inline SVG (no JavaScript library), each with a
text alternative (``<title>`` and a table-like ``aria-label``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

#: status groups in display order: (name, statuses, CSS class)
GROUPS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("finished", ("FINISHED",), "s-finished"),
    ("forced ok", ("FORCED_OK",), "s-forced"),
    ("running", ("SUBMITTED", "QUEUED", "PENDING", "RUNNING"), "s-running"),
    ("submitting", ("SUBMITTING",), "s-submitting"),
    ("waiting", ("INITIATED",), "s-waiting"),
    ("cancelling", ("CANCEL_REQUESTED", "CANCELLING"), "s-cancelling"),
    ("failed", ("FAILED", "ERROR"), "s-failed"),
    ("cancelled", ("CANCELLED",), "s-cancelled"),
)
_FILL = {
    "s-finished": "#1a7f37",
    "s-forced": "#0b7a75",
    "s-running": "#0969da",
    "s-submitting": "#8250df",
    "s-waiting": "#8c959f",
    "s-cancelling": "#bc4c00",
    "s-failed": "#cf222e",
    "s-cancelled": "#57606a",
}


def segments(status_counts: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Progress-bar segments ``[{name, css, n, pct}]`` of non-empty status groups."""
    counts = {str(k): int(v) for k, v in (status_counts or {}).items()}
    total = sum(counts.values())
    out: list[dict[str, Any]] = []
    for name, statuses, css in GROUPS:
        n = sum(counts.get(s, 0) for s in statuses)
        if n:
            out.append({"name": name, "css": css, "n": n, "pct": 100.0 * n / total})
    return out


def histogram_svg(
    counts: Sequence[Mapping[str, Any]], buckets: int, low: float | None, high: float | None
) -> str:
    """Bars of ``counts`` (``{bucket 1..buckets+1, n}``) between ``low`` and ``high`` seconds."""
    if not counts or low is None or high is None:
        return '<p class="muted">No finished jobs yet.</p>'
    width, height, pad = 600, 160, 24
    by_bucket = {int(c["bucket"]): int(c["n"]) for c in counts}
    top = max(by_bucket.values())
    bar = (width - 2 * pad) / buckets
    step = (high - low) / buckets if high > low else 0.0
    edges = duration_labels([low + b * step for b in range(buckets + 1)])
    parts = []
    for b in range(1, buckets + 1):
        n = by_bucket.get(b, 0) + (by_bucket.get(buckets + 1, 0) if b == buckets else 0)
        if not n:
            continue
        h = (height - 2 * pad) * n / top
        x = pad + (b - 1) * bar
        parts.append(
            f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{max(bar - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#0969da"><title>{n} jobs, {edges[b - 1]}–'
            f"{edges[b]}</title></rect>"
        )
    label = f"Run times of {sum(by_bucket.values())} finished jobs, {edges[0]} to {edges[-1]}"
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} '
        f'{height}" width="100%"><title>{escape(label)}</title>{"".join(parts)}'
        f"{_axis([edges[0], edges[-1]], width, height, pad)}</svg>"
    )


def timeline_svg(timeline: Mapping[str, Any]) -> str:
    """Cumulative terminal jobs by status over the cycle (stacked areas as columns)."""
    counts = timeline.get("counts") or []
    if not counts:
        return '<p class="muted">No job has finished yet.</p>'
    buckets = int(timeline["buckets"])
    width, height, pad = 600, 160, 24
    groups = [(name, set(statuses), css) for name, statuses, css in GROUPS]
    running = {css: 0 for _n, _s, css in groups}
    columns: list[dict[str, int]] = []
    per_bucket: dict[int, list[Mapping[str, Any]]] = {}
    for c in counts:
        per_bucket.setdefault(min(int(c["bucket"]), buckets), []).append(c)
    for b in range(1, buckets + 1):
        for c in per_bucket.get(b, []):
            for _name, statuses, css in groups:
                if c["status"] in statuses:
                    running[css] += int(c["n"])
        columns.append(dict(running))
    top = max(sum(col.values()) for col in columns) or 1
    bar = (width - 2 * pad) / buckets
    parts = []
    for i, col in enumerate(columns):
        y = float(height - pad)
        for _name, _statuses, css in groups:
            n = col[css]
            if not n:
                continue
            h = (height - 2 * pad) * n / top
            y -= h
            parts.append(
                f'<rect x="{pad + i * bar:.1f}" y="{y:.1f}" width="{max(bar - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{_FILL[css]}"><title>{n} {_name}</title></rect>'
            )
    final = columns[-1]
    label = "Jobs done over time: " + ", ".join(
        f"{final[css]} {name}" for name, _s, css in groups if final[css]
    )
    ticks = time_labels(str(timeline["start"]), str(timeline["end"]))
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} '
        f'{height}" width="100%"><title>{escape(label)}</title>{"".join(parts)}'
        f"{_axis(ticks, width, height, pad)}</svg>"
    )


def _axis(labels: Sequence[str], width: int, height: int, pad: int) -> str:
    """Labels spread evenly under the chart: first at the left, last at the right."""
    if len(labels) == 1:
        return f'<text x="{pad}" y="{height - 6}" font-size="11">{escape(labels[0])}</text>'
    gap = (width - 2 * pad) / (len(labels) - 1)
    anchors = ["start"] + ["middle"] * (len(labels) - 2) + ["end"]
    return "".join(
        f'<text x="{pad + i * gap:.0f}" y="{height - 6}" font-size="11" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
        for i, (text, anchor) in enumerate(zip(labels, anchors, strict=True))
    )


#: clock formats from coarse to fine: the first that tells the ticks apart is used
_CLOCKS = ("%H:%M", "%H:%M:%S", "%H:%M:%S.%f")


def time_labels(start: str, end: str) -> list[str]:
    """Labels of a time axis (start, middle, end; one when the span is empty), as precise as
    the span needs for no two to read the same: minutes over hours, seconds over a short
    batch, milliseconds below. The first carries the date (each does across days)."""
    lo, hi = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    ticks = [lo, lo + (hi - lo) / 2, hi] if hi > lo else [lo]
    labels: list[str] = []
    for clock in _CLOCKS:
        labels = [t.strftime(clock)[: -3 if clock.endswith("%f") else None] for t in ticks]
        if len(set(labels)) == len(labels):
            break
    if lo.date() != hi.date():
        return [f"{t:%Y-%m-%d} {text}" for t, text in zip(ticks, labels, strict=True)]
    return [f"{lo:%Y-%m-%d} {labels[0]}", *labels[1:]]


def duration_labels(values: Sequence[float]) -> list[str]:
    """Durations in a unit fit for the largest, with the fewest decimals that tell distinct
    values apart (``2.1 min`` and ``2.5 min``, not ``2 min`` twice)."""
    labels: list[str] = []
    for extra in range(4):
        labels = [_secs(v, extra) for v in values]
        if len(set(labels)) == len(set(values)):
            break
    return labels


def _secs(seconds: float, extra: int = 0) -> str:
    if seconds < 10:
        return f"{seconds:.{1 + extra}f} s"
    if seconds < 120:
        return f"{seconds:.{extra}f} s"
    if seconds < 7200:
        return f"{seconds / 60:.{extra}f} min"
    return f"{seconds / 3600:.{1 + extra}f} h"
