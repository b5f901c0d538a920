"""Routing and composing notifications (pure): routes by kind, cycle and severity; digests;
stable keys; the words of each kind."""

from __future__ import annotations

from typing import Any

from irpd.notify.compose import Note, channels_for, compose, single_content
from irpd.notify.settings import RouteConfig


def note(
    n: int,
    kind: str = "job_needs_operator",
    severity: str = "warning",
    cycle: str | None = "2026Q4",
    **details: Any,
) -> Note:
    return Note(
        id=n,
        key=f"00000000-0000-0000-0000-{n:012d}",
        kind=kind,
        severity=severity,
        batch_id=7,
        job_id=None if kind.startswith(("batch_", "daemon_")) else 100 + n,
        details=details or {"status": "FAILED", "error": "threshold too high"},
        cycle=cycle,
        batch_type="analysis",
    )


ROUTES = (
    RouteConfig(channels=("ops",), kinds=("batch_failed", "job_needs_operator")),
    RouteConfig(channels=("mail",), cycles=("2026Q4",), min_severity="critical"),
    RouteConfig(channels=("ops", "audit")),
)


def test_routes_match_kind_cycle_and_severity_each_channel_once() -> None:
    assert channels_for(note(1), ROUTES) == ["ops", "audit"]
    failed = note(2, "batch_failed", "critical", job_counts={"FAILED": 1})
    assert channels_for(failed, ROUTES) == ["ops", "mail", "audit"]
    other_cycle = note(3, "batch_failed", "critical", cycle="2027Q1")
    assert channels_for(other_cycle, ROUTES) == ["ops", "audit"]
    degraded = note(4, "daemon_degraded", "critical", cycle=None, component="database")
    assert channels_for(degraded, ROUTES) == ["ops", "audit"]  # no cycle: cycle routes skip it
    assert channels_for(note(5), ()) == []


def test_a_few_are_single_messages_under_their_own_keys_many_are_one_digest() -> None:
    routes = (RouteConfig(channels=("ops",)),)
    few = [note(n) for n in range(1, 4)]
    messages, chosen = compose(few, routes, digest_threshold=3)
    assert [m.key for m in messages] == [n.key for n in few]
    assert chosen == {1: ["ops"], 2: ["ops"], 3: ["ops"]}
    many = [note(n) for n in range(1, 5)]
    digests, _ = compose(many, routes, digest_threshold=3)
    assert len(digests) == 1
    assert digests[0].notification_ids == (1, 2, 3, 4)
    again, _ = compose(many, routes, digest_threshold=3)
    assert again[0].key == digests[0].key  # the same notifications: the same digest key
    assert digests[0].key not in {n.key for n in many}


def test_every_kind_says_what_happened_and_what_to_do() -> None:
    kinds: dict[str, dict[str, Any]] = {
        "batch_failed": {"job_counts": {"FAILED": 2, "FINISHED": 8}},
        "batch_cancelled": {"job_counts": {"CANCELLED": 3}},
        "batch_completed": {"job_counts": {"FINISHED": 3}},
        "job_needs_operator": {"status": "ERROR", "error": "bad portfolio"},
        "step_started": {"step": "analysis", "status": "RUNNING"},
        "step_finished": {"step": "analysis", "status": "FAILED"},
        "daemon_degraded": {"component": "database", "reason": "down", "lasted_seconds": 60},
        "daemon_recovered": {"component": "database", "reason": "down", "lasted_seconds": 90},
    }
    for kind, details in kinds.items():
        content = single_content(note(1, kind, **details), "https://irpd.example.com")
        assert content["title"], kind
        assert content["text"], kind
        assert content["next_steps"], kind
        assert content["links"][-1][1].startswith("https://irpd.example.com/"), kind
    job = single_content(note(9, status="ERROR", error="bad portfolio"))
    assert job["title"] == "Job 109 ERROR in batch 7 (analysis, cycle 2026Q4)"
    assert "bad portfolio" in job["text"]
    assert "irpctl job resubmit 109" in job["next_steps"][1]
    assert job["links"] == []  # no web.public_url: no links
