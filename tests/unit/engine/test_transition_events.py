"""Transition log events: individual up to the per-interval budget, then one summary; the
bulk path records exactly what the one-by-one path records."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from structlog.testing import capture_logs

from irpd.engine.events import TransitionEvents


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


MOVES = [(i, 7, "QUEUED", "RUNNING" if i % 3 else "FAILED", f"w{i}") for i in range(10)]


def _run(bulk: bool) -> tuple[list[MutableMapping[str, Any]], dict[str, int]]:
    clock = Clock()
    events = TransitionEvents(interval=10.0, per_interval=4, clock=clock)
    with capture_logs() as logs:
        if bulk:
            events.transitioned_many(MOVES[:3])
            events.transitioned_many(MOVES[3:])
        else:
            for job_id, batch_id, source, target, workflow_id in MOVES:
                events.transitioned(job_id, batch_id, source, target, workflow_id=workflow_id)
        clock.now = 11.0
        events.transitioned_many([])  # a later call rolls the interval over: the summary
    return logs, dict(events.total)


def test_the_first_transitions_are_logged_then_summarised() -> None:
    logs, total = _run(bulk=False)
    single = [e for e in logs if e["event"] == "job_transitioned"]
    summary = [e for e in logs if e["event"] == "job_transitions_summary"]
    assert [e["job_id"] for e in single] == [0, 1, 2, 3]
    assert single[1] == {
        "event": "job_transitioned",
        "log_level": "info",
        "job_id": 1,
        "batch_id": 7,
        "workflow_id": "w1",
        "from": "QUEUED",
        "to": "RUNNING",
        "cause": "moodys",
    }
    assert summary[0]["suppressed"] == 6
    assert summary[0]["transitions"] == {"QUEUED->FAILED": 2, "QUEUED->RUNNING": 4}
    assert total == {"FAILED": 4, "RUNNING": 6}


def test_bulk_recording_matches_one_by_one() -> None:
    assert _run(bulk=True) == _run(bulk=False)
