"""The simulated tenant: creates workflow records, draws their timelines and outcomes, runs
the quota, applies cancels and scripted outcomes.

Draws come from a RNG seeded by ``(seed, workflow name, how many of that name came before)``,
so a given submission sequence gets the same durations and outcomes on every run whatever
the interleaving of unrelated requests, and a resubmission under the same name gets a
fresh draw.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping

from irpd.moodys.fake.admission import AdmissionQueue
from irpd.moodys.fake.clock import SimClock, iso
from irpd.moodys.fake.settings import FakeSettings, Range, ScriptedOutcome
from irpd.moodys.fake.timeline import FAILED, STATUSES, TERMINAL, WorkflowRecord

#: types whose FINISHED workflows become analyses / groups (result lookups)
ANALYSIS_TYPES = frozenset({"ANALYTICS_JOB", "DLM", "HD", "ALM"})
GROUP_TYPES = frozenset({"GROUPING"})

PAUSED_MESSAGE = (
    "DS-521: Job paused. This job type is already running on the maximum number of "
    "databases. This job will automatically resume once the other jobs in the queue are "
    "complete."
)


def _draw(rng: random.Random, bounds: Range) -> float:
    low, high = bounds
    return low if high <= low else rng.uniform(low, high)


class Simulation:
    """All workflows and Platform jobs of the fake tenant."""

    def __init__(self, settings: FakeSettings, clock: SimClock) -> None:
        self._settings = settings
        self._clock = clock
        self._records: dict[int, WorkflowRecord] = {}
        self._by_name: dict[str, list[WorkflowRecord]] = {}
        self._queue = AdmissionQueue(settings.quota)
        self._next_id = settings.first_workflow_id
        self._next_result_id = 1001
        self._scripts: dict[str, ScriptedOutcome] = {s.name: s for s in settings.scripts}

    # -- time -------------------------------------------------------------------------

    def now(self) -> float:
        """Current simulated time, with the quota swept up to it."""
        now = self._clock.now()
        self._queue.advance(now)
        return now

    def advance(self, seconds: float) -> float:
        """Move simulated time forward; returns the new now."""
        self._clock.advance(seconds)
        return self.now()

    # -- reading ----------------------------------------------------------------------

    def get(self, workflow_id: int) -> WorkflowRecord | None:
        """A record by id."""
        return self._records.get(workflow_id)

    def get_many(self, workflow_ids: Iterable[int]) -> list[WorkflowRecord]:
        """The records of those ids that exist, in the order given (a record is always
        true, so filter(None) drops only the unknown ids)."""
        return list(filter(None, map(self._records.get, workflow_ids)))

    def records(self) -> Iterator[WorkflowRecord]:
        """All records in submission (id) order."""
        return iter(self._records.values())

    def named(self, name: str) -> list[WorkflowRecord]:
        """Records with exactly this workflow name, oldest first."""
        return self._by_name.get(name, [])

    def __len__(self) -> int:
        return len(self._records)

    @property
    def quota(self) -> int | None:
        """Current concurrency quota (None: unlimited, 0: paused)."""
        return self._queue.quota

    @property
    def paused(self) -> bool:
        """Whether admission is paused (quota 0)."""
        return self._queue.quota == 0

    def counts(self, records: Iterable[WorkflowRecord] | None = None) -> dict[str, int]:
        """Number of records per status now."""
        now = self.now()
        counts = dict.fromkeys(STATUSES, 0)
        for record in self._records.values() if records is None else records:
            counts[record.status_at(now)] += 1
        return counts

    def describe_queue(self) -> dict[str, object]:
        """Quota state for the admin view."""
        self.now()
        return {
            "quota": self._queue.quota,
            "paused": self.paused,
            "slotsOccupied": self._queue.occupied,
            "waiting": self._queue.waiting,
        }

    # -- writing ----------------------------------------------------------------------

    def submit(
        self,
        *,
        workflow_type: str,
        name: str,
        body_text: str,
        api: str | None = None,
        operations: tuple[str, ...] = (),
        op_inputs: tuple[str, ...] = (),
        summary: Mapping[str, str] | None = None,
    ) -> WorkflowRecord:
        """Create a workflow (or Platform job) submitted now."""
        now = self.now()
        same_name = self._by_name.setdefault(name, [])
        rng = random.Random(f"{self._settings.seed}|{name}|{len(same_name)}")
        stages = self._settings.durations_for(workflow_type)
        record = WorkflowRecord(
            id=self._next_id,
            name=name,
            type=workflow_type,
            api=api,
            submit_at=now,
            submit_iso=iso(now),
            ready_at=now + _draw(rng, stages.queued),
            pending_s=_draw(rng, stages.pending),
            running_s=_draw(rng, stages.running),
            body_text=body_text,
            summary=dict(summary or {}),
            operations=operations,
            op_inputs=op_inputs,
        )
        record.fail_progress = rng.randint(5, 95)
        record.fails = rng.random() < self._settings.failure_rate
        if record.fails:
            record.message = f"Simulated failure of {workflow_type} workflow {name!r}"
        if workflow_type in ANALYSIS_TYPES or workflow_type in GROUP_TYPES:
            record.result_id = self._next_result_id
            self._next_result_id += 1
        self._next_id += 1
        self._apply_script(record)
        self._records[record.id] = record
        same_name.append(record)
        self._queue.enqueue(record)
        self._queue.advance(now)
        return record

    def cancel(self, record: WorkflowRecord) -> str | None:
        """Request a cancel now. Returns the blocking status when it is already terminal
        (a second cancel of a workflow being cancelled is accepted and changes nothing)."""
        now = self.now()
        status = record.status_at(now)
        if status in TERMINAL:
            return status
        if record.cancel_at is not None:
            return None
        rng = random.Random(f"{self._settings.seed}|cancel|{record.id}")
        durations = self._settings.cancel_durations
        record.cancel_requested_s = _draw(rng, durations.requested)
        record.cancelling_s = _draw(rng, durations.cancelling)
        record.cancel_at = now
        self._queue.moved_release(record, now)
        return None

    def set_priority(self, record: WorkflowRecord, priority: str) -> None:
        """Platform re-prioritisation (recorded, not simulated)."""
        record.priority = priority

    def set_quota(self, quota: int | None) -> None:
        """Change the concurrency quota from now on (0 pauses admission)."""
        self._queue.set_quota(quota, self._clock.now())

    def script(self, outcome: ScriptedOutcome) -> int:
        """Force the outcome of workflows of one name: those not yet terminal and those
        submitted later (up to ``times`` of them). Returns how many existing ones changed."""
        self._scripts[outcome.name] = outcome
        now = self.now()
        changed = 0
        for record in self._by_name.get(outcome.name, []):
            if not record.is_terminal_at(now) and self._apply_script(record):
                changed += 1
        return changed

    def scripts(self) -> list[ScriptedOutcome]:
        """Scripts still in force."""
        return list(self._scripts.values())

    def _apply_script(self, record: WorkflowRecord) -> bool:
        script = self._scripts.get(record.name)
        if script is None:
            return False
        record.fails = script.outcome == FAILED
        record.message = (
            (script.message or f"Scripted failure of {record.name!r}") if (record.fails) else None
        )
        if script.times is not None:
            if script.times <= 1:
                del self._scripts[record.name]
            else:
                self._scripts[record.name] = ScriptedOutcome(
                    script.name, script.outcome, script.message, script.times - 1
                )
        return True
