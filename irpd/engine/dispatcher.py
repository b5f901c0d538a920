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
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import structlog

from irpd.db.database import DatabaseUnavailable, UniqueViolation
from irpd.db.engine_store import Acknowledged, EngineStore, Moved, QueuedJob
from irpd.db.moves import Effects, acknowledgements, settlements, submit_intents
from irpd.engine.events import TransitionEvents
from irpd.engine.health import DatabaseHealth
from irpd.engine.leases import LeaseKeeper
from irpd.engine.ports import MoodysGateway
from irpd.engine.workflow_names import workflow_name
from irpd.errors import PermanentError, RetryableError, clip
from irpd.moodys.errors import MoodysAuthenticationError, MoodysUnavailable
from irpd.moodys.models import WorkflowStatus
from statemachines.job import CANCEL_PENDING_JOB_STATUSES, JOB_LIFECYCLE, JobStatus
from statemachines.moves import Move

log = structlog.get_logger("irpd.dispatcher")

#: Moody's remembers an X-RMS-RequestId for 24 h; replay only well inside that window
KEY_REPLAY_WINDOW = 23 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatcherSettings:
    """Dispatcher settings: those without a default come from the configuration (mapped in
    :mod:`irpd.engine.settings`); the rest are benchmark-tuned internals."""

    batch_size: int
    #: claim again once this fraction of ``batch_size`` is free (or nothing is in flight):
    #: claiming a few jobs after every outcome costs a queue query each (~10 ms at 10,000)
    refill_fraction: float = 0.5
    #: outcomes are gathered this long before one write (a write per handful of outcomes
    #: cost a statement and a commit each)
    outcome_linger: float = 0.02
    #: HTTP submissions at once at most (``moodys.submit_concurrency``, the client's bound
    #: too); how many now is the gateway's adaptive limit below it. A job waiting for a slot
    #: when a drain begins is left SUBMITTING, to be replayed with its key after the restart
    concurrency: int
    idle_interval: float
    first_poll_in: float
    max_attempts: int = 20
    retry_base: float = 5.0
    retry_max: float = 300.0
    db_retry_max: float


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one submission attempt produced, waiting to be written."""

    job: QueuedJob
    kind: Literal["acked", "settled", "retry", "deferred", "abandoned"]
    workflow_id: str | None = None
    #: the job machine's trigger of a written outcome (acknowledge, complete_synchronously,
    #: refuse); none for a retry
    trigger: str = ""
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
        #: the gateway's adaptive limit below ``concurrency`` (Moody's latency and errors)
        self._moodys_slot: Callable[[], AbstractAsyncContextManager[None]] = getattr(
            moodys, "submission_slot", contextlib.nullcontext
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = True
        self.submitted = 0
        #: written submission outcomes by kind (accepted, refused, retry, deferred, abandoned)
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
        moves = [
            JOB_LIFECYCLE.move(
                j.id,
                j.status,
                "begin_submit",
                {"idempotency_key": str(intents[j.id][0]), "workflow_name": intents[j.id][1]},
            )
            for j in queued
        ]
        keys, names = zip(*intents.values(), strict=True)
        moved = {m.id: m for m in await self._store.apply_moves(moves, submit_intents(keys, names))}
        self._events.transitioned_many(
            [(m.id, m.batch_id, m.previous, m.status, None) for m in moved.values()], cause="engine"
        )
        for job in queued:
            if job.id in moved:
                key, name = intents[job.id]
                submitting = replace(job, status=moved[job.id].status)
                self._launch(submitting, self._send(submitting, key, name))
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
                    trigger="acknowledge",
                    workflow_id=workflow.workflow_id,
                    response={"recovered_by": "workflow_name"},
                )
            new_key = uuid.uuid4()
            if not await self._store.rekey(job.id, key, new_key):
                return self._retry(job, RuntimeError("rekey lost a race"))
            key = new_key
        return await self._send(job, key, name)

    async def _send(self, job: QueuedJob, key: uuid.UUID, name: str) -> Outcome:
        async with self._slots, self._moodys_slot():
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
                job, "settled", trigger="refuse", error=clip(str(exc)), response=_error_record(exc)
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
                    trigger="refuse",
                    error=clip(f"internal error: {type(exc).__name__}: {exc}"),
                )
            return self._retry(job, exc)
        self.submitted += 1
        if result.workflow_id is None:
            return Outcome(
                job,
                "settled",
                trigger="complete_synchronously",
                request=result.request,
                response=result.response,
            )
        return Outcome(
            job,
            "acked",
            trigger="acknowledge",
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
        pending = [o for o in batch if o.kind in ("acked", "settled")]
        # A job's status may have moved since it was claimed (an operator's cancel while the
        # HTTP call was in flight): a lost compare-and-set is re-read and decided again.
        for _ in range(MAX_WRITE_ROUNDS):
            if not pending:
                break
            written = await self._write_moves(pending)
            pending = await self._refreshed([o for o in pending if o.job.id not in written])
        for o in batch:
            if o.kind == "retry":
                await self._store.record_submit_retry(o.job.id, o.error or "", o.retry_in)
            elif o.kind == "deferred":
                await self._store.defer_submission(o.job.id, o.error or "", o.retry_in)

    async def _write_moves(self, outcomes: list[Outcome]) -> set[int]:
        """Write what the machine makes of each outcome; return the ids written."""
        acks: list[tuple[Move, Outcome]] = []
        learned: dict[str, list[Outcome]] = {}
        settled: list[tuple[Move, Outcome]] = []
        for o in outcomes:
            if (o.job.status, o.trigger) in JOB_LIFECYCLE.lookup:
                move = JOB_LIFECYCLE.move(o.job.id, o.job.status, o.trigger, _audit(o))
                (settled if o.kind == "settled" else acks).append((move, o))
            elif o.kind == "acked" and o.job.status in CANCEL_PENDING_JOB_STATUSES:
                # a cancel was requested meanwhile: no move, the job learns its workflow id
                learned.setdefault(o.job.status, []).append(o)
            else:
                log.warning("submission_outcome_dropped", job_id=o.job.id, status=o.job.status)
        written: set[int] = set()
        if acks:
            rows, conflicts = await self._acknowledge(acks)
            settled += conflicts
            previous = {m.id: m.expected for m, _ in acks}
            self._events.transitioned_many(
                [(r.id, r.batch_id, previous[r.id], r.status, r.workflow_id) for r in rows],
                cause="engine",
            )
            written.update(r.id for r in rows)
            self._on_acknowledged(rows)
        for status, group in learned.items():
            rows = await self._store.record_workflow_ids(
                status,
                [
                    (
                        o.job.id,
                        str(o.workflow_id),
                        o.request,
                        o.response,
                        self.settings.first_poll_in,
                    )
                    for o in group
                ],
            )
            written.update(r.id for r in rows)
            self._on_acknowledged(rows)
        if settled:
            moved = await self._store.apply_moves(
                [m for m, _ in settled],
                settlements(
                    [o.error for _, o in settled],
                    [o.request for _, o in settled],
                    [o.response for _, o in settled],
                    [o.trigger == "complete_synchronously" for _, o in settled],
                ),
            )
            self._events.transitioned_many(
                [(m.id, m.batch_id, m.previous, m.status, None) for m in moved], cause="engine"
            )
            written.update(m.id for m in moved)
            # every settled outcome's batch, not only the rows this attempt moved: after a
            # commit lost with its connection, the retry moves nothing, yet the batch changed
            self._on_settled(
                [Moved(m.id, o.job.batch_id, m.target, m.expected) for m, o in settled]
            )
        return written

    async def _acknowledge(
        self, acks: list[tuple[Move, Outcome]]
    ) -> tuple[list[Acknowledged], list[tuple[Move, Outcome]]]:
        """Record acknowledgements; one whose workflow id another job already holds (Moody's
        gave the same id twice, e.g. a tenant restored empty) is refused instead (ERROR, with
        the reason), so neither job is tracked twice and the writer never stops on it."""
        try:
            return await self._store.acknowledge(
                [m for m, _ in acks], self._acknowledgements(acks)
            ), []
        except UniqueViolation:
            if len(acks) == 1:
                o = acks[0][1]
                reason = clip(
                    f"Moody's answered with workflow id {o.workflow_id}, which another job "
                    "already holds; not tracked twice (resubmit the job)"
                )
                log.error("submission_workflow_id_conflict", job_id=o.job.id,
                          workflow_id=o.workflow_id)
                no = replace(o, kind="settled", trigger="refuse", error=reason)
                return [], [(JOB_LIFECYCLE.move(o.job.id, o.job.status, "refuse", _audit(no)), no)]
        rows: list[Acknowledged] = []
        conflicts: list[tuple[Move, Outcome]] = []
        for pair in acks:  # find the conflicting ones: one statement each
            done, conflicting = await self._acknowledge([pair])
            rows += done
            conflicts += conflicting
        return rows, conflicts

    def _acknowledgements(self, acks: list[tuple[Move, Outcome]]) -> Effects:
        return acknowledgements(
            [str(o.workflow_id) for _, o in acks],
            [o.request for _, o in acks],
            [o.response for _, o in acks],
            [self.settings.first_poll_in] * len(acks),
        )

    async def _refreshed(self, lost: list[Outcome]) -> list[Outcome]:
        """Outcomes whose compare-and-set lost, with the job's current status; those whose
        submission was already resolved (a workflow id recorded) are dropped."""
        if not lost:
            return []
        current = {row.id: row for row in await self._store.job_states([o.job.id for o in lost])}
        again = []
        for o in lost:
            row = current.get(o.job.id)
            if row is None or row.workflow_id or row.status == o.job.status:
                continue  # resolved elsewhere, or fenced off (shard lost): nothing to write
            if row.status == _target(o):
                continue  # written by an earlier attempt whose commit was not confirmed
            again.append(replace(o, job=replace(o.job, status=row.status)))
        return again


#: a submission outcome is re-decided at most this often when its job keeps moving
MAX_WRITE_ROUNDS = 3


def _target(outcome: Outcome) -> str | None:
    """The status the outcome's move leads to from the job's status (``None``: no move)."""
    return JOB_LIFECYCLE.lookup.get((JobStatus(outcome.job.status), outcome.trigger))


def _audit(outcome: Outcome) -> dict[str, Any] | None:
    """The tracking-log data of a settled submission (the reason of a refusal)."""
    return None if outcome.error is None else {"error": outcome.error}


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
    if outcome.kind == "acked" or (outcome.kind == "settled" and outcome.trigger != "refuse"):
        return "accepted"
    if outcome.kind == "settled":
        return "refused"
    return outcome.kind
