"""Small charts rendered on the server as inline SVG (no JavaScript library), each with a
text alternative (``<title>`` and a table-like ``aria-label``)."""

from __future__ import annotations

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
    parts = []
    for b in range(1, buckets + 1):
        n = by_bucket.get(b, 0) + (by_bucket.get(buckets + 1, 0) if b == buckets else 0)
        if not n:
            continue
        h = (height - 2 * pad) * n / top
        x = pad + (b - 1) * bar
        lo = low + (b - 1) * step
        parts.append(
            f'<rect x="{x:.1f}" y="{height - pad - h:.1f}" width="{max(bar - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#0969da"><title>{n} jobs, {_secs(lo)}–'
            f"{_secs(lo + step)}</title></rect>"
        )
    label = f"Run times of {sum(by_bucket.values())} finished jobs, {_secs(low)} to {_secs(high)}"
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} '
        f'{height}" width="100%"><title>{escape(label)}</title>{"".join(parts)}'
        f'<text x="{pad}" y="{height - 6}" font-size="11">{_secs(low)}</text>'
        f'<text x="{width - pad}" y="{height - 6}" font-size="11" text-anchor="end">'
        f"{_secs(high)}</text></svg>"
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
    start, end = str(timeline["start"])[:16], str(timeline["end"])[:16]
    return (
        f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} '
        f'{height}" width="100%"><title>{escape(label)}</title>{"".join(parts)}'
        f'<text x="{pad}" y="{height - 6}" font-size="11">{escape(start)}</text>'
        f'<text x="{width - pad}" y="{height - 6}" font-size="11" text-anchor="end">'
        f"{escape(end)}</text></svg>"
    )


def _secs(seconds: float) -> str:
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
