"""The common end of every scenario: wait until the cycle settles, then run checks (a)–(e)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tests.processes import HarnessError

from . import checks, dbtools
from .cycle import ChaosCycle
from .harness import FakeServer

TERMINAL_BATCH = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


def wait_settled(dsn: str, batch_ids: Iterable[int], timeout: float) -> dict[int, str]:
    """Until every batch and every job is terminal (read from the database); fails after
    ``timeout``. (A batch is FAILED or CANCELLED only once none of its jobs is in flight.)"""
    wanted = set(batch_ids)
    deadline = time.monotonic() + timeout
    while True:
        statuses = {int(b["id"]): str(b["status"]) for b in dbtools.batches(dsn)}
        open_jobs = dbtools.fetch(
            dsn,
            "SELECT count(*) AS n FROM irp_job WHERE status <> ALL($1::text[])",
            sorted(checks.TERMINAL_JOB),
        )[0]["n"]
        if not open_jobs and all(statuses.get(b) in TERMINAL_BATCH for b in wanted):
            return statuses
        if time.monotonic() > deadline:
            jobs = Counter(str(j["status"]) for j in dbtools.jobs(dsn))
            raise HarnessError(
                f"batches not settled after {timeout:g} s: "
                f"{ {b: statuses.get(b) for b in sorted(wanted)} }; jobs {dict(jobs)}"
            )
        time.sleep(0.3)


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the end checks found, and the figures worth reporting."""

    problems: tuple[str, ...]
    jobs: int
    workflows: int
    replays: int
    ledger_entries: int
    requests: int
    faults: dict[str, int]

    def describe(self) -> str:
        """One line for the report."""
        faults = ", ".join(f"{k}={v}" for k, v in sorted(self.faults.items())) or "none"
        return (
            f"jobs={self.jobs} workflows={self.workflows} ledger={self.ledger_entries} "
            f"replays={self.replays} requests={self.requests} faults injected: {faults}; "
            f"problems={len(self.problems)}"
        )


def verdict(
    dsn: str,
    fake: FakeServer,
    cycle: ChaosCycle,
    *,
    expected_errors: Sequence[int] = (),
    retry_after: bool = False,
) -> Verdict:
    """Run the end checks on the database and the fake (clears the fake's faults first)."""
    request_log = fake.request_log()
    fake.set_faults([])
    ledger = fake.ledger()
    jobs = dbtools.jobs(dsn)
    workflow_ids = [str(j["moodys_workflow_id"]) for j in jobs if j["moodys_workflow_id"]]
    problems = checks.ledger_problems(ledger, jobs)
    problems += checks.terminal_problems(jobs)
    problems += checks.outcome_problems(
        jobs, dbtools.batches(dsn), cycle.expected, cycle.failing, expected_errors
    )
    problems += checks.tracking_problems(
        jobs, dbtools.tracking_log(dsn), fake.workflow_statuses(workflow_ids)
    )
    if retry_after:
        problems += checks.retry_after_problems(request_log)
    faults = Counter(str(r["fault"]) for r in request_log["requests"] if r["fault"])
    return Verdict(
        problems=tuple(problems),
        jobs=len(jobs),
        workflows=len(set(workflow_ids)),
        replays=sum(1 for e in ledger if e["replay"]),
        ledger_entries=len(ledger),
        requests=int(request_log["total"]),
        faults=dict(faults),
    )
