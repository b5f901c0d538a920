"""Notifications → messages (pure): routing, the words of each message, and digests.

A message's ``content`` is channel-neutral (title, text, facts, next steps, links, the
notifications it carries); :mod:`irpd.notify.formats` renders it for Teams, Slack, a webhook
or e-mail. It is composed once and stored, so every retry sends the same message.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from irpd.notify.settings import SEVERITIES, RouteConfig

#: job ids listed per batch in a digest (the rest are counted)
LISTED_JOBS: Final = 20
#: links in one message at most
MAX_LINKS: Final = 5
_DIGEST_NAMESPACE: Final = uuid.UUID("8f0b8a52-3c1e-4f57-9d0e-6a4c2b1d7e90")


@dataclass(frozen=True, slots=True)
class Note:
    """One notification row with its context (cycle, batch type)."""

    id: int
    key: str
    kind: str
    severity: str
    batch_id: int | None
    job_id: int | None
    details: Mapping[str, Any]
    cycle: str | None
    batch_type: str | None


@dataclass(frozen=True, slots=True)
class Message:
    """What the sender stores for one channel: delivered at least once under ``key``."""

    channel: str
    key: str
    notification_ids: tuple[int, ...]
    content: dict[str, Any]


def note_from_row(row: Mapping[str, Any]) -> Note:
    """A :class:`Note` from a ``notification_take`` row."""
    details = row["details"] or {}
    return Note(
        id=int(row["id"]),
        key=str(row["idempotency_key"]),
        kind=str(row["kind"]),
        severity=str(row["severity"]),
        batch_id=row["batch_id"],
        job_id=row["job_id"],
        details=details,
        cycle=row["cycle_name"],
        batch_type=row["batch_type"] or details.get("batch_type"),
    )


def channels_for(note: Note, routes: Sequence[RouteConfig]) -> list[str]:
    """The channels whose routes take ``note`` (in configuration order, each once)."""
    rank = SEVERITIES.index(note.severity) if note.severity in SEVERITIES else 0
    chosen: list[str] = []
    for route in routes:
        if route.kinds and note.kind not in route.kinds:
            continue
        if route.cycles and note.cycle not in route.cycles:
            continue
        if rank < SEVERITIES.index(route.min_severity):
            continue
        chosen.extend(c for c in route.channels if c not in chosen)
    return chosen


def compose(
    notes: Sequence[Note],
    routes: Sequence[RouteConfig],
    *,
    digest_threshold: int,
    public_url: str = "",
) -> tuple[list[Message], dict[int, list[str]]]:
    """Messages for every channel, and the channels chosen for each notification id.

    A channel that gets more than ``digest_threshold`` notifications gets one digest."""
    per_channel: dict[str, list[Note]] = defaultdict(list)
    chosen: dict[int, list[str]] = {}
    for note in notes:
        chosen[note.id] = channels_for(note, routes)
        for channel in chosen[note.id]:
            per_channel[channel].append(note)
    messages: list[Message] = []
    for channel, mine in per_channel.items():
        if len(mine) > digest_threshold:
            ids = tuple(n.id for n in mine)
            key = str(uuid.uuid5(_DIGEST_NAMESPACE, ",".join(n.key for n in mine)))
            messages.append(Message(channel, key, ids, digest_content(mine, public_url)))
        else:
            messages.extend(
                Message(channel, n.key, (n.id,), single_content(n, public_url)) for n in mine
            )
    return messages, chosen


# --- the words ------------------------------------------------------------------------------


def _where(note: Note) -> str:
    parts = []
    if note.batch_type:
        parts.append(note.batch_type)
    if note.cycle:
        parts.append(f"cycle {note.cycle}")
    return f" ({', '.join(parts)})" if parts else ""


def _counts(details: Mapping[str, Any]) -> str:
    counts = details.get("job_counts") or {}
    return ", ".join(f"{status} {n}" for status, n in sorted(counts.items())) or "no jobs"


def _failed_jobs(details: Mapping[str, Any]) -> int:
    counts = details.get("job_counts") or {}
    return int(counts.get("FAILED", 0)) + int(counts.get("ERROR", 0))


def _links(note: Note, public_url: str) -> list[list[str]]:
    if not public_url:
        return []
    base = public_url.rstrip("/")
    links = []
    if note.job_id is not None:
        links.append([f"Open job {note.job_id}", f"{base}/jobs/{note.job_id}"])
    if note.batch_id is not None:
        links.append([f"Open batch {note.batch_id}", f"{base}/batches/{note.batch_id}"])
    if not links:
        links.append(["Open the irpd console", base])
    return links


def _words(note: Note) -> tuple[str, str, list[str]]:
    """(title, what happened, what to do next) of one notification."""
    d, b, j = note.details, note.batch_id, note.job_id
    where = _where(note)
    if note.kind == "batch_failed":
        return (
            f"Batch {b} FAILED{where}",
            f"Batch {b}{where} ended FAILED: {_failed_jobs(d)} job(s) failed or were refused "
            f"(jobs: {_counts(d)}).",
            [
                f"See the failed jobs: irpctl batch jobs {b} --status FAILED "
                f"(and --status ERROR).",
                "Resubmit each (irpctl job resubmit ID [--override FILE] --reason TEXT), skip "
                "it (irpctl job skip ID --reason TEXT) or force it OK; the batch is "
                "reconciled again by itself.",
            ],
        )
    if note.kind == "batch_cancelled":
        return (
            f"Batch {b} CANCELLED{where}",
            f"Batch {b}{where} ended CANCELLED (jobs: {_counts(d)}).",
            [f"If the work is still needed, resubmit or skip its jobs (irpctl batch jobs {b})."],
        )
    if note.kind == "batch_completed":
        return (
            f"Batch {b} COMPLETED{where}",
            f"Batch {b}{where} COMPLETED (jobs: {_counts(d)}).",
            ["Nothing to do; the next step of the cycle can start."],
        )
    if note.kind == "job_needs_operator":
        status = d.get("status", "FAILED")
        error = f" Error: {d['error']}" if d.get("error") else ""
        workflow = f", Moody's workflow {d['workflow_id']}" if d.get("workflow_id") else ""
        return (
            f"Job {j} {status} in batch {b}{where}",
            f"Job {j} of batch {b}{where} is {status}{workflow}.{error}",
            [
                f"Look at it: irpctl job show {j}.",
                f"Resubmit it (irpctl job resubmit {j} [--override FILE] --reason TEXT), skip "
                f"it (irpctl job skip {j} --reason TEXT) or force it OK.",
            ],
        )
    if note.kind in ("step_started", "step_finished"):
        return _step_words(note)
    component = str(d.get("component", "irpd"))
    reason = str(d.get("reason", ""))
    if note.kind == "daemon_recovered":
        return (
            f"irpd recovered: {component}",
            f"{component} is back to normal after {d.get('lasted_seconds', '?')} s. {reason}",
            ["Nothing to do; irpd catches up by itself."],
        )
    return (
        f"irpd degraded: {component}",
        f"{reason} (for {d.get('lasted_seconds', '?')} s so far, on worker "
        f"{d.get('worker_id', '?')}).",
        [str(d.get("next_step") or "See irpctl status and the daemon's log.")],
    )


def _step_words(note: Note) -> tuple[str, str, list[str]]:
    d, b = note.details, note.batch_id
    step, status = d.get("step", "?"), str(d.get("status", ""))
    cycle = f" of cycle {note.cycle}" if note.cycle else ""
    head = f"Cycle {note.cycle}: step" if note.cycle else "Step"
    batch = f" (batch {b}, {note.batch_type})" if b is not None else ""
    why = f" {d['note']}" if d.get("note") else ""
    if note.kind == "step_started":
        return (
            f"{head} {step} started",
            f"Step {step}{cycle} started: its batch was submitted{batch}.",
            [f"Follow it: irpctl cycle status {note.cycle or 'CYCLE'}."],
        )
    steps = {
        "COMPLETED": "Nothing to do; the plan goes on with the next step.",
        "SKIPPED": "Nothing to do unless the step was needed.",
    }
    return (
        f"{head} {step} {status}",
        f"Step {step}{cycle} ended {status}{batch}.{why}",
        [
            steps.get(
                status,
                f"Review the batch's failures (irpctl batch jobs {b} --status FAILED), then "
                "resubmit or skip them; the plan resumes once the batch completes.",
            )
        ],
    )


def _reference(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "idempotency_key": note.key,
        "kind": note.kind,
        "severity": note.severity,
        "cycle": note.cycle,
        "batch_id": note.batch_id,
        "job_id": note.job_id,
    }


def _facts(note: Note) -> list[list[str]]:
    facts = [["Event", note.kind], ["Severity", note.severity]]
    if note.cycle:
        facts.append(["Cycle", note.cycle])
    if note.batch_id is not None:
        kind = f" ({note.batch_type})" if note.batch_type else ""
        facts.append(["Batch", f"{note.batch_id}{kind}"])
    if note.job_id is not None:
        facts.append(["Job", str(note.job_id)])
    return facts


def single_content(note: Note, public_url: str = "") -> dict[str, Any]:
    """The content of a message carrying one notification."""
    title, text, steps = _words(note)
    return {
        "title": title,
        "severity": note.severity,
        "text": text,
        "facts": _facts(note),
        "next_steps": steps,
        "links": _links(note, public_url),
        "digest": False,
        "notifications": [_reference(note)],
    }


def digest_content(notes: Sequence[Note], public_url: str = "") -> dict[str, Any]:
    """One message for many notifications: grouped by batch, counted, the first jobs listed."""
    kinds = Counter(n.kind for n in notes)
    severity = max((n.severity for n in notes), key=SEVERITIES.index)
    by_batch: dict[int | None, list[Note]] = defaultdict(list)
    for note in notes:
        by_batch[note.batch_id].append(note)
    lines: list[str] = []
    steps: list[str] = []
    links: list[list[str]] = []
    for batch_id, group in by_batch.items():
        lines.append(_digest_line(batch_id, group))
        for note in group:
            for step in _words(note)[2]:
                if step not in steps and not step.startswith("Look at it"):
                    steps.append(step)
            for link in _links(note, public_url):
                if link[0].startswith("Open job"):
                    continue
                if link not in links and len(links) < MAX_LINKS:
                    links.append(link)
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    return {
        "title": f"irpd: {len(notes)} notifications ({summary})",
        "severity": severity,
        "text": "\n".join(lines),
        "facts": [[kind, str(n)] for kind, n in sorted(kinds.items())],
        "next_steps": steps[:6],
        "links": links,
        "digest": True,
        "notifications": [_reference(n) for n in notes],
    }


def _digest_line(batch_id: int | None, group: Sequence[Note]) -> str:
    if batch_id is None:
        return "; ".join(_words(n)[0] for n in group)
    first = group[0]
    head = f"Batch {batch_id}{_where(first)}"
    outcomes = [n for n in group if n.kind.startswith("batch_")]
    jobs = [n for n in group if n.kind == "job_needs_operator"]
    parts = [f"ended {n.kind.removeprefix('batch_').upper()}" for n in outcomes]
    if jobs:
        statuses = Counter(str(n.details.get("status", "FAILED")) for n in jobs)
        shown = ", ".join(str(n.job_id) for n in jobs[:LISTED_JOBS])
        more = f" and {len(jobs) - LISTED_JOBS} more" if len(jobs) > LISTED_JOBS else ""
        counted = ", ".join(f"{s} {c}" for s, c in sorted(statuses.items()))
        parts.append(f"{len(jobs)} job(s) need an operator ({counted}): {shown}{more}")
    return f"{head}: {'; '.join(parts)}."
