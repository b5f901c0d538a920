"""``batch submit`` follows a whole batch's acknowledgement through its live counts (one
``batch.show`` per poll), not by paging through its jobs; the jobs are listed once, at the end."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from irpd.cli import waiting
from irpd.control.client import DaemonRefused, DaemonUnreachable


def test_a_whole_batch_is_followed_by_its_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("irpd.cli.waiting.time.sleep", lambda _s: None)
    queued = iter([3, 1, 0])
    calls: list[str] = []
    listed: list[dict[str, Any]] = []

    def call(command: str, **_args: Any) -> dict[str, Any]:
        calls.append(command)
        if command == "status":  # Moody's health, read while jobs wait
            return {"moodys": {"reachable": True}}
        report = {
            "queued_jobs": next(queued),
            "submitting_jobs": 0,
            "total_jobs": 4,
            "skipped_jobs": 1,
        }
        return {"report": report}

    def rows(command: str, key: str, **args: Any) -> list[Mapping[str, Any]]:
        listed.append({"command": command, **args})
        return [{"id": 1, "status": "SUBMITTED"}, {"id": 2, "status": "ERROR"}]

    progress = waiting.Progress(enabled=False)
    jobs = waiting.wait_acknowledged(rows, 7, None, 60.0, progress, call=call)
    assert jobs == [{"job_id": 1, "status": "SUBMITTED"}, {"job_id": 2, "status": "ERROR"}]
    assert calls == ["batch.show", "status", "batch.show", "status", "batch.show"]
    assert listed == [{"command": "batch.jobs", "batch_id": 7, "skipped": False}]


def test_a_job_seen_queued_then_submitting_counts_once() -> None:
    # it moved between the two listings: "waiting for Moody's to acknowledge 4 job(s)" was
    # said of 2 resubmitted jobs
    def rows(command: str, key: str, **args: Any) -> list[Mapping[str, Any]]:
        return [{"id": 5, "status": args["status"], "submit_requested_ts": "t"},
                {"id": 6, "status": args["status"], "submit_requested_ts": "t"}]

    assert waiting._pending(rows, None, 7, {5, 6}) == (2, None)


def test_a_failed_batch_names_its_jobs_to_look_at() -> None:
    shown = {"id": 12, "status": "FAILED", "report": {"next_action": "REVIEW_FAILURES"}}
    listed: list[str] = []

    def rows(command: str, key: str, **args: Any) -> list[Mapping[str, Any]]:
        listed.append(args["status"])
        return [{"id": 58}] if args["status"] == "FAILED" else [{"id": 61}]

    ended = waiting.wait_batch(
        lambda *_a, **_k: shown, rows, 12, 60.0, waiting.Progress(enabled=False)
    )
    assert ended.exit_code == waiting.EXIT_FAILED
    assert ended.attention == {"next_action": "REVIEW_FAILURES", "job_ids": [58, 61], "jobs": 2}
    assert listed == ["FAILED", "ERROR"]
    completed = {"id": 12, "status": "COMPLETED", "report": {"next_action": "PROCEED"}}
    done = waiting.wait_batch(
        lambda *_a, **_k: completed, rows, 12, 60.0, waiting.Progress(enabled=False)
    )
    assert (done.exit_code, done.attention) == (waiting.EXIT_OK, None)


def test_batch_wait_rides_out_a_restart_through_the_new_daemons_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the socket gone (unreachable), then bound by a daemon still waiting for its database
    # (NotReady): both are a restart, not an answer; a refusal of another kind is
    monkeypatch.setattr("irpd.cli.waiting.time.sleep", lambda _s: None)
    answers: list[Exception | dict[str, Any]] = [
        DaemonUnreachable("no socket"),
        DaemonRefused("NotReady", "irpd is not ready (starting: waiting for the database)"),
        {"id": 3, "status": "COMPLETED", "report": {"total_jobs": 1, "finished_jobs": 1}},
    ]

    def call(command: str, **_args: Any) -> dict[str, Any]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def rows(command: str, key: str, **args: Any) -> list[Mapping[str, Any]]:
        return []

    waited = waiting.wait_batch(call, rows, 3, 60.0, waiting.Progress(enabled=False))
    assert waited.exit_code == waiting.EXIT_OK
    assert answers == []

    answers[:] = [DaemonRefused("BatchError", "Batch 3 not found.")]
    with pytest.raises(DaemonRefused):
        waiting.wait_batch(call, rows, 3, 60.0, waiting.Progress(enabled=False))
