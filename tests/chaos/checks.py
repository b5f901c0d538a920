"""The end checks of every chaos scenario. Each returns the list of broken promises (empty when
all hold), so a failure names every problem at once.

(a) ledger: at most one workflow per name, every workflow belongs to exactly one job;
(b) every job terminal; (c) batch outcomes as scripted; (d) the tracking log records every
status change of every job exactly once, ending in the job's status and Moody's;
(e) no request inside a ``Retry-After`` window; (f) two daemons never worked a job at once.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

TERMINAL_JOB = frozenset({"FINISHED", "FAILED", "CANCELLED", "FORCED_OK", "ERROR"})
#: statuses Moody's reports that end a workflow
MOODYS_TERMINAL = frozenset({"FINISHED", "FAILED", "CANCELLED"})


def _accepted(entry: Mapping[str, Any]) -> bool:
    return 200 <= int(entry["status"]) < 300 and not entry["replay"]


def ledger_problems(
    ledger: Sequence[Mapping[str, Any]], jobs: Sequence[Mapping[str, Any]]
) -> list[str]:
    """(a) One workflow per name and per key; every workflow held by exactly one job."""
    problems: list[str] = []
    by_name: dict[str, set[str]] = defaultdict(set)
    by_key: Counter[str] = Counter()
    created: Counter[str] = Counter()
    for entry in ledger:
        if not _accepted(entry) or not entry["workflowId"]:
            continue
        created[str(entry["workflowId"])] += 1
        if entry["name"]:
            by_name[str(entry["name"])].add(str(entry["workflowId"]))
        if entry["requestId"]:
            by_key[str(entry["requestId"])] += 1
    problems += [f"workflow name {n!r} has {len(w)} workflows: {sorted(w)}"
                 for n, w in sorted(by_name.items()) if len(w) > 1]
    problems += [f"key {k} created {n} workflows" for k, n in by_key.items() if n > 1]
    problems += [f"workflow {w} created {n} times" for w, n in created.items() if n > 1]
    held = Counter(str(j["moodys_workflow_id"]) for j in jobs if j.get("moodys_workflow_id"))
    problems += [f"workflow {w} held by {n} jobs" for w, n in held.items() if n > 1]
    orphans = sorted(set(created) - set(held))
    if orphans:
        names = {str(e["workflowId"]): e["name"] for e in ledger if e["workflowId"]}
        shown = [f"{w} ({names.get(w)})" for w in orphans[:20]]
        problems.append(f"{len(orphans)} workflows no job holds (orphans): {shown}")
    unknown = sorted(set(held) - set(created))
    if unknown:
        problems.append(f"jobs hold workflows Moody's never created: {unknown[:20]}")
    names_of_jobs = {str(j["workflow_name"]): j["id"] for j in jobs if j.get("workflow_name")}
    strangers = sorted(n for n in by_name if n not in names_of_jobs)
    if strangers:
        problems.append(f"workflows named after no job: {strangers[:20]}")
    return problems


def terminal_problems(jobs: Sequence[Mapping[str, Any]]) -> list[str]:
    """(b) Every job is terminal."""
    stuck = [(j["id"], j["status"]) for j in jobs if j["status"] not in TERMINAL_JOB]
    return [f"{len(stuck)} jobs not terminal: {stuck[:20]}"] if stuck else []


def outcome_problems(
    jobs: Sequence[Mapping[str, Any]],
    batches: Sequence[Mapping[str, Any]],
    expected_batches: Mapping[int, str],
    failing_jobs: Iterable[int],
    expected_errors: Iterable[int] = (),
) -> list[str]:
    """(c) Scripted failures → FAILED jobs → FAILED batches; every other job FINISHED."""
    problems: list[str] = []
    failing, errors = set(failing_jobs), set(expected_errors)
    for job in jobs:
        want = "FAILED" if job["id"] in failing else "ERROR" if job["id"] in errors else "FINISHED"
        if job["status"] != want:
            problems.append(
                f"job {job['id']} ({job.get('workflow_name')}) is {job['status']}, expected "
                f"{want}; last_error={job.get('last_error')!r}"
            )
    actual = {int(b["id"]): str(b["status"]) for b in batches}
    for batch_id, want in sorted(expected_batches.items()):
        if actual.get(batch_id) != want:
            problems.append(f"batch {batch_id} is {actual.get(batch_id)}, expected {want}")
    return problems


def tracking_problems(
    jobs: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    moodys_status: Mapping[str, str],
) -> list[str]:
    """(d) Per job, the tracking log is one unbroken chain of changes from INITIATED to the
    job's status (no change missing, none twice), and that status is what Moody's says."""
    problems: list[str] = []
    by_job: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_job[int(row["job_id"])].append(row)
    for job in jobs:
        chain = sorted(by_job.get(int(job["id"]), []), key=lambda r: int(r["id"]))
        problems += _chain_problems(job, chain)
        workflow = job.get("moodys_workflow_id")
        if workflow and job["status"] in MOODYS_TERMINAL:
            reported = moodys_status.get(str(workflow))
            if reported != job["status"]:
                problems.append(
                    f"job {job['id']} is {job['status']} but Moody's says {reported} "
                    f"for workflow {workflow}"
                )
    return problems


def _chain_problems(job: Mapping[str, Any], chain: Sequence[Mapping[str, Any]]) -> list[str]:
    where = f"job {job['id']}"
    if not chain:
        return [f"{where}: no tracking-log rows (status {job['status']})"]
    problems: list[str] = []
    previous = "INITIATED"
    for row in chain:
        status, before = str(row["job_status"]), row["previous_status"]
        if before != previous:
            problems.append(
                f"{where}: row {row['id']} {before}->{status} follows {previous} "
                f"(a change is missing or recorded twice)"
            )
        if status in (before, previous):
            problems.append(f"{where}: row {row['id']} repeats status {status} ({row['source']})")
        previous = status
    if previous != job["status"]:
        problems.append(f"{where}: tracking log ends in {previous}, job is {job['status']}")
    return problems


def retry_after_problems(request_log: Mapping[str, Any]) -> list[str]:
    """(e) The fake saw no request inside a ``Retry-After`` window it had opened."""
    inside = [r for r in request_log.get("requests", []) if r.get("insideRetryAfter")]
    total = int(request_log.get("insideRetryAfter", len(inside)))
    if not total:
        return []
    shown = [(r["seq"], r["method"], r["path"], r["fault"]) for r in inside[:10]]
    return [f"{total} requests arrived inside a Retry-After window: {shown}"]


# --- (f) two daemons ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Touch:
    """A committed transition of a job, as one daemon logged it."""

    at: datetime
    worker: str
    job_id: int
    change: str


def touches(worker: str, events: Iterable[Mapping[str, Any]]) -> list[Touch]:
    """``job_transitioned`` log records of one daemon as :class:`Touch` es."""
    found: list[Touch] = []
    for event in events:
        if event.get("event") != "job_transitioned" or event.get("job_id") is None:
            continue
        at = datetime.fromisoformat(str(event["timestamp"]).replace("Z", "+00:00"))
        found.append(Touch(at, worker, int(event["job_id"]), f"{event['from']}->{event['to']}"))
    return found


def interleaving_problems(all_touches: Iterable[Touch], max_handovers: int) -> list[str]:
    """(f) Per job, the daemons' transitions form at most ``max_handovers + 1`` runs, and no
    daemon touched a job between two transitions of the other one (A, B, A within one run of
    ownership would show up as an extra handover)."""
    by_job: dict[int, list[Touch]] = defaultdict(list)
    for touch in all_touches:
        by_job[touch.job_id].append(touch)
    problems: list[str] = []
    for job_id, seen in sorted(by_job.items()):
        seen.sort(key=lambda t: t.at)
        runs = [seen[0].worker]
        for touch in seen[1:]:
            if touch.worker != runs[-1]:
                runs.append(touch.worker)
        if len(runs) - 1 > max_handovers or len(set(runs)) < len(runs) - 1:
            shown = [(t.at.time().isoformat(), t.worker, t.change) for t in seen]
            problems.append(f"job {job_id} handed between daemons {len(runs) - 1} times: {shown}")
    return problems
