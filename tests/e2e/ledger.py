"""What the fake's submission ledger proves: each job reached Moody's once, and no workflow
exists that no job accounts for."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def accepted(entry: Mapping[str, Any]) -> bool:
    """Answered 2xx and not a replay of an earlier request (a new piece of work)."""
    return 200 <= int(entry["status"]) < 300 and not entry["replay"]


def created_workflows(ledger: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Workflow id → how many accepted, non-replayed submissions created it."""
    return Counter(str(e["workflowId"]) for e in ledger if accepted(e) and e["workflowId"])


def workflows_by_name(ledger: Iterable[Mapping[str, Any]]) -> Counter[str]:
    """Workflow name → how many distinct workflows were created under it."""
    seen: dict[str, set[str]] = {}
    for e in ledger:
        if accepted(e) and e["workflowId"] and e["name"]:
            seen.setdefault(str(e["name"]), set()).add(str(e["workflowId"]))
    return Counter({name: len(ids) for name, ids in seen.items()})


def job_workflow_ids(jobs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The Moody's workflow ids the jobs hold (jobs without one are left out)."""
    return [str(j["moodys_workflow_id"]) for j in jobs if j.get("moodys_workflow_id")]


def submissions_by_key(ledger: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> Counter[str]:
    """Idempotency key → accepted, non-replayed submissions sent with it (0 included)."""
    wanted = set(keys)
    counts: Counter[str] = Counter({key: 0 for key in wanted})
    for e in ledger:
        if e["requestId"] in wanted and accepted(e):
            counts[str(e["requestId"])] += 1
    return counts


def duplicate_problems(
    ledger: Sequence[Mapping[str, Any]],
    jobs: Sequence[Mapping[str, Any]],
    *,
    unique_names: bool = False,
) -> list[str]:
    """Why the ledger and the jobs disagree (empty when every workflow belongs to exactly one
    job and every job's workflow was created exactly once). With ``unique_names`` (batch types
    whose workflows carry the job's deterministic name) no name may have two workflows."""
    problems: list[str] = []
    created = created_workflows(ledger)
    held = Counter(job_workflow_ids(jobs))
    problems += [f"workflow {w} created {n} times" for w, n in created.items() if n != 1]
    problems += [f"workflow {w} held by {n} jobs" for w, n in held.items() if n != 1]
    orphans = sorted(set(created) - set(held))
    if orphans:
        problems.append(f"workflows no job holds: {orphans}")
    unknown = sorted(set(held) - set(created))
    if unknown:
        problems.append(f"jobs hold workflows Moody's never created: {unknown}")
    if not unique_names:
        return problems
    by_name = workflows_by_name(ledger)
    problems += [f"{n} workflows named {name!r}" for name, n in by_name.items() if n != 1]
    return problems
