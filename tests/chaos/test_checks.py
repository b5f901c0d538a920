"""The end checks themselves: each one finds the broken promise it exists for (pure, fast)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from . import checks
from .census import KillCensus

pytestmark = pytest.mark.chaos


def entry(name: str, workflow: str, key: str, *, status: int = 202, replay: bool = False,
          seq: int = 1) -> dict[str, Any]:
    return {"seq": seq, "name": name, "workflowId": workflow, "requestId": key,
            "status": status, "replay": replay}


def job(job_id: int, status: str, workflow: str | None, name: str | None = None,
        **extra: Any) -> dict[str, Any]:
    return {"id": job_id, "status": status, "moodys_workflow_id": workflow,
            "workflow_name": name or f"irpd-{job_id}-x", "batch_id": 1, **extra}


def row(row_id: int, job_id: int, before: str, after: str, source: str = "moodys"
        ) -> dict[str, Any]:
    return {"id": row_id, "job_id": job_id, "previous_status": before, "job_status": after,
            "source": source}


CLEAN_JOBS = [job(1, "FINISHED", "w1"), job(2, "FAILED", "w2")]
CLEAN_LEDGER = [entry("irpd-1-x", "w1", "k1"), entry("irpd-2-x", "w2", "k2"),
                entry("irpd-1-x", "w1", "k1", replay=True)]


def test_a_clean_ledger_passes() -> None:
    assert checks.ledger_problems(CLEAN_LEDGER, CLEAN_JOBS) == []


def test_two_workflows_for_one_job_are_found() -> None:
    ledger = [*CLEAN_LEDGER, entry("irpd-1-x", "w9", "k9")]
    problems = checks.ledger_problems(ledger, CLEAN_JOBS)
    assert any("has 2 workflows" in p for p in problems)
    assert any("orphans" in p and "w9" in p for p in problems)


def test_a_workflow_nobody_holds_and_one_never_created_are_found() -> None:
    jobs = [job(1, "FINISHED", "w1"), job(2, "FAILED", "w7")]
    problems = checks.ledger_problems(CLEAN_LEDGER, jobs)
    assert any("orphans" in p and "w2" in p for p in problems)
    assert any("never created" in p and "w7" in p for p in problems)


def test_refused_and_replayed_submissions_create_nothing() -> None:
    ledger = [*CLEAN_LEDGER, entry("irpd-3-x", "", "k3", status=400),
              entry("irpd-2-x", "w2", "k2", replay=True)]
    assert checks.ledger_problems(ledger, CLEAN_JOBS) == []


def test_open_jobs_and_wrong_outcomes_are_found() -> None:
    assert checks.terminal_problems([job(1, "RUNNING", "w1")])
    problems = checks.outcome_problems(
        CLEAN_JOBS, [{"id": 1, "status": "COMPLETED"}], {1: "FAILED"}, failing_jobs=[1]
    )
    assert any("job 1" in p and "expected FAILED" in p for p in problems)
    assert any("job 2" in p and "expected FINISHED" in p for p in problems)
    assert any("batch 1 is COMPLETED, expected FAILED" in p for p in problems)


def _chain(job_id: int, *statuses: str) -> list[dict[str, Any]]:
    rows, before = [], "INITIATED"
    for index, status in enumerate(statuses, start=1):
        rows.append(row(job_id * 100 + index, job_id, before, status))
        before = status
    return rows


def test_a_complete_tracking_log_passes() -> None:
    rows = _chain(1, "SUBMITTING", "SUBMITTED", "RUNNING", "FINISHED") + _chain(
        2, "SUBMITTING", "SUBMITTED", "FAILED"
    )
    assert checks.tracking_problems(CLEAN_JOBS, rows, {"w1": "FINISHED", "w2": "FAILED"}) == []


def test_a_missing_a_repeated_and_a_wrong_final_status_are_found() -> None:
    missing = _chain(1, "SUBMITTING", "SUBMITTED", "FINISHED")
    del missing[1]
    twice = _chain(2, "SUBMITTING", "SUBMITTED", "FAILED")
    twice.append(row(299, 2, "SUBMITTED", "FAILED"))
    problems = checks.tracking_problems(CLEAN_JOBS, missing + twice,
                                        {"w1": "FINISHED", "w2": "FAILED"})
    assert any("job 1" in p and "missing or recorded twice" in p for p in problems)
    assert any("job 2" in p and "missing or recorded twice" in p for p in problems)
    assert any("job 2" in p and "repeats status FAILED" in p for p in problems)
    mismatch = checks.tracking_problems(
        CLEAN_JOBS[:1], _chain(1, "SUBMITTING", "SUBMITTED", "FINISHED"), {"w1": "FAILED"}
    )
    assert any("Moody's says FAILED" in p for p in mismatch)
    ends = checks.tracking_problems(
        [job(1, "FINISHED", "w1")], _chain(1, "SUBMITTING", "SUBMITTED"), {"w1": "FINISHED"}
    )
    assert any("ends in SUBMITTED" in p for p in ends)


def test_requests_inside_a_retry_after_window_are_found() -> None:
    assert checks.retry_after_problems({"insideRetryAfter": 0, "requests": []}) == []
    found = checks.retry_after_problems({"insideRetryAfter": 1, "requests": [
        {"seq": 4, "method": "GET", "path": "/x", "fault": None, "insideRetryAfter": True}]})
    assert found
    assert "1 requests" in found[0]


def _touches(*workers: str) -> list[checks.Touch]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [checks.Touch(start + timedelta(seconds=i), w, 7, "x->y")
            for i, w in enumerate(workers)]


def test_handovers_are_allowed_interleaving_is_not() -> None:
    assert checks.interleaving_problems(_touches("a", "a", "b", "b", "a"), 2) == []
    assert checks.interleaving_problems(_touches("a", "b", "a", "b"), 2)
    assert checks.interleaving_problems(_touches("a", "b", "a"), 1)


def test_touches_are_read_from_job_transitioned_events() -> None:
    events: list[dict[str, Any]] = [
        {"event": "job_transitioned", "job_id": 3, "from": "A", "to": "B",
         "timestamp": "2026-01-01T00:00:01.5Z"},
        {"event": "engine_stats", "timestamp": "2026-01-01T00:00:02Z"},
    ]
    assert checks.touches("a", events) == [
        checks.Touch(datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=UTC), "a", 3, "A->B")
    ]


def test_the_census_classifies_where_a_kill_left_each_submission() -> None:
    census = KillCensus()
    jobs = [
        {"status": "SUBMITTING", "idempotency_key": "k-unsent"},
        {"status": "SUBMITTING", "idempotency_key": "k-wire"},
        {"status": "SUBMITTING", "idempotency_key": "k-done"},
        {"status": "RUNNING", "idempotency_key": "k-old"},
    ]
    ledger = [{"requestId": "k-done", "status": 202}]
    requests = {"requests": [{"requestId": "k-wire"}, {"requestId": "k-done"}]}
    census.record(jobs, ledger, requests)
    assert census.per_kill == [(1, 1, 1, 1)]
    assert census.kills_in_submit_window == 1
    assert census.kills_after_answer == 1
