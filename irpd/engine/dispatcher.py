"""The dispatcher: submits queued jobs to Moody's, exactly once per job.

For each claimed job the intent (INITIATED → SUBMITTING with a fresh idempotency key and the
job's deterministic workflow name) is committed before the HTTP call. Outcomes are written in
batches by a writer coroutine: SUBMITTED with the workflow id, FINISHED for synchronous
operations, ERROR for permanent refusals, or a retry later with the same key. A job whose
intent was committed but whose outcome was never recorded (crash, outage) is resolved by
replaying the same key while Moody's still remembers it, or by looking the workflow up by
name, before anything new is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog

from irpd.db.database import DatabaseUnavailable
from irpd.db.engine_store import Acknowledged, EngineStore, Moved, QueuedJob
from irpd.engine.events import TransitionEvents
from irpd.engine.health import DatabaseHealth
from irpd.engine.leases import LeaseKeeper
from irpd.engine.ports import MoodysGateway
from irpd.engine.workflow_names import workflow_name
from irpd.errors import PermanentError, RetryableError, clip
from irpd.moodys.circuit import MoodysUnavailable
from irpd.moodys.errors import MoodysAuthenticationError
from irpd.moodys.models import WorkflowStatus

log = structlog.get_logger("irpd.dispatcher")

#: Moody's remembers an X-RMS-RequestId for 24 h; replay only well inside that window
KEY_REPLAY_WINDOW = 23 * 3600.0


@dataclass(frozen=True, slots=True)
class DispatcherSettings:
    """Dispatcher tuning (from ``[engine]``)."""

    batch_size: int = 500
    #: claim again once this fraction of ``batch_size`` is free (or nothing is in flight):
    #: claiming a few jobs after every outcome costs a queue query each (~10 ms at 10,000)
    refill_fraction: float = 0.5
    #: outcomes are gathered this long before one write (a write per handful of outcomes
    #: cost a statement and a commit each)
    outcome_linger: float = 0.02
    #: HTTP submissions at once (the client has the same bound); a job waiting for a slot when
    #: a drain begins is left SUBMITTING, to be replayed with its key after the restart
    concurrency: int = 8
    idle_interval: float = 1.0
    first_poll_in: float = 5.0
    max_attempts: int = 20
    retry_base: float = 5.0
    retry_max: float = 300.0
    db_retry_max: float = 10.0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one submission attempt produced, waiting to be written."""

    job: QueuedJob
    kind: Literal["acked", "settled", "retry", "deferred", "abandoned"]
    workflow_id: str | None = None
    target: str | None = None
    error: str | None = None
    request: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)
    retry_in: float = 0.0


class Dispatcher:
    """Claims queued jobs, submits them under the client's bounds, records the outcomes."""

    def __init__(
        self,
        store: EngineStore,
        moodys: MoodysGateway,
        leases: LeaseKeeper,
        health: DatabaseHealth,
        events: TransitionEvents,
        settings: DispatcherSettings,
        *,
        on_acknowledged: Callable[[Sequence[Acknowledged]], None],
        on_settled: Callable[[Sequence[Moved]], None],
        rng: random.Random | None = None,
        moodys_room: Callable[[], int | None] = lambda: None,
    ) -> None:
        self._store = store
        #: new submissions Moody's may take now (None: no limit; 0 while its circuit is open)
        self._moodys_room = moodys_room
        self._moodys = moodys
        self._leases = leases
        self._health = health
        self._events = events
        self.settings = settings
        self._on_acknowledged = on_acknowledged
        self._on_settled = on_settled
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._outcomes: asyncio.Queue[Outcome] = asyncio.Queue()
        self._in_flight: set[int] = set()
        self._drained = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = True
        self.submitted = 0
        #: written submission outcomes by kind (accepted, refused, retry, abandoned)
        self.outcomes: Counter[str] = Counter()

    def wake(self) -> None:
        """New work may be queued: look now instead of at the next idle tick."""
        self._wake.set()

    @property
    def in_flight(self) -> int:
        """Submissions sent or about to be sent whose outcome is not yet written."""
        return len(self._in_flight)

    async def run(self) -> None:
        """Claim and launch submissions until told to stop (a supervised task)."""
        backoff = 0.5
        while self._accepting:
            try:
                launched = await self._round()
                backoff = 0.5
            except DatabaseUnavailable:
                await self._health.backoff(backoff)
                backoff = min(backoff * 2, self.settings.db_retry_max)
                continue
            if not launched:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.idle_interval)

    async def write_outcomes(self) -> None:
        """Write submission outcomes in batches (a supervised task)."""
        while True:
            first = await self._outcomes.get()
            batch = [first]
            if self._accepting and self.settings.outcome_linger > 0:
                await asyncio.sleep(self.settings.outcome_linger)  # let a few more arrive
            while not self._outcomes.empty() and len(batch) < 1000:
                batch.append(self._outcomes.get_nowait())
            await self._write_until_done(batch)

    async def drain(self, timeout: float) -> None:
        """Stop claiming; wait up to ``timeout`` s for in-flight submissions and their writes."""
        self._accepting = False
        self._wake.set()
        deadline = time.monotonic() + timeout
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=max(0.0, deadline - time.monotonic()))
        if self._in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drained.wait(), max(0.0, deadline - time.monotonic()))
        if self._in_flight:
            log.warning("dispatch_drain_abandoned", in_flight=len(self._in_flight))

    # --- claiming ---------------------------------------------------------------------
    async def _round(self) -> int:
        shards = sorted(self._leases.usable())
        room = self.settings.batch_size - len(self._in_flight)
        limit = self._moodys_room()
        if limit is not None:  # Moody's is unreachable: one submission goes as a probe
            room = min(room, limit - len(self._in_flight))
        refill_at = max(1, int(self.settings.batch_size * self.settings.refill_fraction))
        if not shards or room <= 0 or (self._in_flight and room < refill_at):
            return 0
        launched = 0
        unresolved = await self._store.unresolved_submissions(shards, sorted(self._in_flight), room)
        for job in unresolved:
            launched += 1
            self._launch(job, self._resolve(job))
        room -= len(unresolved)
        if room > 0 and self._accepting:
            launched += await self._claim_new(shards, room)
        return launched

    async def _claim_new(self, shards: Sequence[int], room: int) -> int:
        queued = await self._store.queued_jobs(shards, room)
        if not queued:
            return 0
        intents = {j.id: (uuid.uuid4(), workflow_name(j.id, j.configuration)) for j in queued}
        moved = await self._store.begin_submit([(i, *intents[i]) for i in intents])
        for job in queued:
            if job.id in moved:
                key, name = intents[job.id]
                self._events.transitioned(
                    job.id, job.batch_id, "INITIATED", "SUBMITTING", cause="engine"
                )
                self._launch(job, self._send(job, key, name))
        return len(moved)

    def _launch(self, job: QueuedJob, attempt: Any) -> None:
        self._in_flight.add(job.id)
        self._drained.clear()

        async def run() -> None:
            await self._outcomes.put(await attempt)

        task = asyncio.create_task(run(), name=f"irpd:submit:{job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- one submission ------------------------------------------------------------------
    async def _resolve(self, job: QueuedJob) -> Outcome:
        """An intent with no recorded outcome: replay its key, or find it by name first."""
        assert job.idempotency_key is not None
        assert job.workflow_name is not None
        key, name = job.idempotency_key, job.workflow_name
        log.info(
            "submission_recovering",
            job_id=job.id,
            batch_id=job.batch_id,
            workflow_name=name,
            seconds_since_intent=round(job.seconds_since_intent),
        )
        if job.seconds_since_intent >= KEY_REPLAY_WINDOW:
            try:
                found = await self._moodys.find_workflows_by_name(name)
            except RetryableError as exc:
                return self._retry(job, exc)
            workflow = _submitted_since(found, job.seconds_since_intent)
            if workflow is not None:
                return Outcome(
                    job,
                    "acked",
                    workflow_id=workflow.workflow_id,
                    response={"recovered_by": "workflow_name"},
                )
            new_key = uuid.uuid4()
            if not await self._store.rekey(job.id, key, new_key):
                return self._retry(job, RuntimeError("rekey lost a race"))
            key = new_key
        return await self._send(job, key, name)

    async def _send(self, job: QueuedJob, key: uuid.UUID, name: str) -> Outcome:
        async with self._slots:
            if not self._accepting:
                return Outcome(job, "abandoned")  # draining: replayed after the restart
            return await self._send_now(job, key, name)

    async def _send_now(self, job: QueuedJob, key: uuid.UUID, name: str) -> Outcome:
        log_ = log.bind(job_id=job.id, batch_id=job.batch_id, workflow_name=name)
        try:
            result = await self._moodys.submit(
                job.configuration, workflow_name=name, request_id=key
            )
        except MoodysUnavailable as exc:  # not sent: Moody's circuit is open
            delay = exc.retry_in * (1.0 + self._rng.random() / 2)
            return Outcome(
                job, "deferred", error=clip(f"{type(exc).__name__}: {exc}"), retry_in=delay
            )
        except MoodysAuthenticationError as exc:
            log_.error("moodys_auth_failed", error=str(exc))
            return self._retry(job, exc, floor=self.settings.retry_max)
        except PermanentError as exc:
            log_.warning("submission_refused", error=str(exc))
            return Outcome(
                job, "settled", target="ERROR", error=clip(str(exc)), response=_error_record(exc)
            )
        except RetryableError as exc:
            log_.warning("submission_retry", error=str(exc), attempts=job.attempts + 1)
            return self._retry(job, exc)
        except Exception as exc:  # a bug must not take every other job down with it
            log_.error("submission_crashed", exc_info=exc)
            if job.attempts + 1 >= self.settings.max_attempts:
                return Outcome(
                    job,
                    "settled",
                    target="ERROR",
                    error=clip(f"internal error: {type(exc).__name__}: {exc}"),
                )
            return self._retry(job, exc)
        self.submitted += 1
        if result.workflow_id is None:
            return Outcome(
                job, "settled", target="FINISHED", request=result.request, response=result.response
            )
        return Outcome(
            job,
            "acked",
            workflow_id=result.workflow_id,
            request=result.request,
            response=result.response,
        )

    def _retry(self, job: QueuedJob, exc: BaseException, floor: float = 0.0) -> Outcome:
        delay = min(self.settings.retry_max, self.settings.retry_base * 2 ** min(job.attempts, 10))
        delay = max(floor, delay * (0.5 + self._rng.random() / 2))
        return Outcome(job, "retry", error=clip(f"{type(exc).__name__}: {exc}"), retry_in=delay)

    # --- writing outcomes ----------------------------------------------------------------
    async def _write_until_done(self, batch: list[Outcome]) -> None:
        backoff = 0.5
        while True:
            try:
                await self._write(batch)
                break
            except DatabaseUnavailable:
                await self._health.backoff(backoff)
                backoff = min(backoff * 2, self.settings.db_retry_max)
        for outcome in batch:
            self._in_flight.discard(outcome.job.id)
            self.outcomes[_outcome_label(outcome)] += 1
        if not self._in_flight:
            self._drained.set()
        self._wake.set()  # room for more: claim the next jobs now, not at the idle tick

    async def _write(self, batch: list[Outcome]) -> None:
        acked = [o for o in batch if o.kind == "acked"]
        settled = [o for o in batch if o.kind == "settled"]
        if acked:
            rows = await self._store.record_acknowledged(
                [
                    (
                        o.job.id,
                        str(o.workflow_id),
                        o.request,
                        o.response,
                        self.settings.first_poll_in,
                    )
                    for o in acked
                ]
            )
            for row in rows:
                if row.status == "SUBMITTED":
                    self._events.transitioned(
                        row.id,
                        row.batch_id,
                        "SUBMITTING",
                        "SUBMITTED",
                        workflow_id=row.workflow_id,
                        cause="engine",
                    )
            self._on_acknowledged(rows)
        if settled:
            moved = await self._store.record_settled(
                [(o.job.id, str(o.target), o.error, o.request, o.response) for o in settled]
            )
            for moved_row in moved:
                self._events.transitioned(
                    moved_row.id,
                    moved_row.batch_id,
                    moved_row.previous,
                    moved_row.status,
                    cause="engine",
                )
            # every settled outcome's batch, not only the rows this attempt moved: after a
            # commit lost with its connection, the retry moves nothing, yet the batch changed
            self._on_settled([Moved(o.job.id, o.job.batch_id, str(o.target)) for o in settled])
        for o in batch:
            if o.kind == "retry":
                await self._store.record_submit_retry(o.job.id, o.error or "", o.retry_in)
            elif o.kind == "deferred":
                await self._store.defer_submission(o.job.id, o.error or "", o.retry_in)


#: clock skew tolerated between this host and Moody's when matching a workflow by name
CLOCK_SKEW = timedelta(minutes=5)


def _submitted_since(
    found: Sequence[WorkflowStatus], seconds_since_intent: float
) -> WorkflowStatus | None:
    """The earliest workflow submitted after the job's intent was committed.

    A name can repeat (a resubmitted analysis keeps its name): only a workflow submitted after
    this job's intent can be this job's."""
    intent = datetime.now(UTC) - timedelta(seconds=seconds_since_intent) - CLOCK_SKEW
    candidates = [w for w in found if w.submit_time is None or w.submit_time >= intent]
    if not candidates:
        return None
    return min(candidates, key=lambda w: w.submit_time or datetime.max.replace(tzinfo=UTC))


def _error_record(exc: BaseException) -> dict[str, Any]:
    record: dict[str, Any] = {"error": type(exc).__name__, "message": clip(str(exc))}
    for attribute in ("http_status", "code", "log_id"):
        value = getattr(exc, attribute, None)
        if value is not None:
            record[attribute] = value
    return record


def _outcome_label(outcome: Outcome) -> str:
    """The metrics label of a written outcome."""
    if outcome.kind == "acked" or (outcome.kind == "settled" and outcome.target != "ERROR"):
        return "accepted"
    if outcome.kind == "settled":
        return "refused"
    return outcome.kind
