"""Which windows a SIGKILL hit: read right after the kill, before the restart.

For every job whose submission outcome was not recorded (``SUBMITTING``) at the kill, the
fake's request log and ledger tell where it stood: the intent committed but nothing sent yet;
the request on the wire; or Moody's already created the workflow and the answer was never
committed. In-flight jobs (acknowledged, being tracked) are counted too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

TRACKED = frozenset({"SUBMITTED", "QUEUED", "PENDING", "RUNNING"})


@dataclass
class KillCensus:
    """Totals over every kill of a scenario."""

    kills: int = 0
    intent_not_sent: int = 0
    request_on_the_wire: int = 0
    answer_not_committed: int = 0
    being_tracked: int = 0
    kills_in_submit_window: int = 0
    kills_after_answer: int = 0
    per_kill: list[tuple[int, int, int, int]] = field(default_factory=list)

    def record(
        self,
        jobs: Sequence[Mapping[str, Any]],
        ledger: Sequence[Mapping[str, Any]],
        request_log: Mapping[str, Any],
    ) -> None:
        """Classify the jobs as the kill left them."""
        sent = {str(r["requestId"]) for r in request_log.get("requests", []) if r["requestId"]}
        created = {
            str(e["requestId"])
            for e in ledger
            if e["requestId"] and 200 <= int(e["status"]) < 300
        }
        not_sent = wire = answered = 0
        for job in jobs:
            if job["status"] != "SUBMITTING":
                continue
            key = str(job["idempotency_key"])
            if key in created:
                answered += 1
            elif key in sent:
                wire += 1
            else:
                not_sent += 1
        tracked = sum(1 for j in jobs if j["status"] in TRACKED)
        self.kills += 1
        self.intent_not_sent += not_sent
        self.request_on_the_wire += wire
        self.answer_not_committed += answered
        self.being_tracked += tracked
        self.kills_in_submit_window += 1 if not_sent or wire else 0
        self.kills_after_answer += 1 if answered else 0
        self.per_kill.append((not_sent, wire, answered, tracked))

    def describe(self) -> str:
        """One line for the report."""
        return (
            f"kills={self.kills} (with intents committed but unsent/on the wire: "
            f"{self.kills_in_submit_window}; with answers not yet committed: "
            f"{self.kills_after_answer}); jobs caught: intent-not-sent={self.intent_not_sent} "
            f"on-the-wire={self.request_on_the_wire} "
            f"answer-not-committed={self.answer_not_committed} being-tracked={self.being_tracked}"
        )
