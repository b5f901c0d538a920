"""The tracker: polls due in-flight jobs with batched status lookups and applies the answers.

The schedule lives in memory (see :mod:`irpd.engine.schedule`) and is rebuilt from the
database at start, when shard ownership changes, and periodically. Each sweep asks Moody's for
the statuses of up to ``max_due`` due jobs (``ids=`` batches), lets the pure job machine decide
what every answer means, and writes status changes (compare-and-set + tracking-log row) and
plain poll bookkeeping in a few bulk statements. Transitions are logged only after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import structlog

from irpd.db.database import DatabaseUnavailable
from irpd.db.engine_store import EngineStore, InFlightJob, Moved, Poll, Report
from irpd.db.moves import reports as report_effects
from irpd.engine.collector import collector_paused, freeze_if_large
from irpd.engine.events import Throttled, TransitionEvents
from irpd.engine.health import DatabaseHealth, MoodysHealth
from irpd.engine.leases import SHARDS, LeaseKeeper
from irpd.engine.lost import LostWorkflows
from irpd.engine.poll_budget import PollBudget
from irpd.engine.ports import MoodysGateway
from irpd.engine.schedule import PollSchedule, TrackedJob
from irpd.engine.sweep_slots import Counted, SweepSlots
from irpd.errors import PermanentError, RetryableError, clip
from irpd.moodys.models import WorkflowStatus
from statemachines.job import (
    IN_FLIGHT_JOB_STATUSES,
    TERMINAL_JOB_STATUSES,
    JobStatus,
    apply_reported_status,
    report_error,
    report_move,
)
from statemachines.polling import PollPolicy, first_poll_delay, next_poll_delay

log = structlog.get_logger("irpd.tracker")

_new_tuple = tuple.__new__


#: due jobs polled per sweep at most (the rest wait for the next sweep). A sweep takes its
#: chunks off the schedule one at a time, so this does not bound a loop step; it bounds how
#: long a sweep runs before the tracker looks at resyncs again. Every sweep ends by waiting
#: for its last chunks to be written, so a smaller bound left both cores idle between
#: sweeps: 20,000 gave five such pauses per 100,000 jobs (docs/performance.md)
MAX_DUE = 100_000
#: first polls after a start are spread so that at most this many jobs are due per second;
#: benchmark-tuned: recovery of 100,000 jobs inside poll_min_interval (docs/performance.md)
RECOVERY_RATE = 20_000.0
#: the shortest window a load's first polls are spread over, even with ``recovery_spread``
#: 0: jobs due in the same microsecond come off the schedule in id order, and consecutive ids
#: share PostgreSQL heap pages, so a chunk of them moved by one statement found no room there
#: for HOT updates (a fifth of them HOT; PostgreSQL's CPU per transition ×1.6, against every
#: update HOT for chunks spread over the table; docs/performance.md)
LOAD_TIE_SPREAD = 0.01
#: chunks answered but not yet written that a sweep holds beyond the status-request limit:
#: requests go on while a few chunks are decided and written. With 4 the daemon and
#: PostgreSQL (each on a core of its own, bench.run --split-cores) waited on each other: a
#: burst of 100,000 took 4.0-4.3 s against 3.6-3.8 s with 8 (16: no faster, the loop lag's p99
#: over 50 ms). Below the pool's 10 connections (docs/performance.md)
WRITE_AHEAD = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackerSettings:
    """Tracker settings: those without a default come from ``[engine]`` (mapped in
    :mod:`irpd.engine.settings`); the rest are benchmark-tuned internals."""

    policy: PollPolicy
    tick: float
    max_due: int = MAX_DUE
    #: jobs per chunk, rounded down to whole status requests (0: one request's worth)
    chunk: int = 0
    #: chunks in flight when Moody's gateway does not say (it does: the adaptive limit of
    #: its status requests, irpd.moodys.adaptive)
    parallel_chunks: int = 4
    recovery_rate: float = RECOVERY_RATE
    #: jobs due within this many seconds are polled together with the ones due now
    lookahead: float = 1.0
    #: while operators use the control socket, at most this many workflow ids are polled per
    #: second (0: no cap): their commands come before background polling on a busy machine
    max_polls_per_second: float
    #: while an operator command runs, each tracker step waits up to this long for it
    operator_yield: float
    #: ids per status request; a capped poll takes whole requests' worth
    ids_per_request: int
    recovery_spread: float
    resync_interval: float = 60.0
    db_retry_max: float
    #: a poll that changed nothing is written only when progress moved or this long passed
    persist_unchanged_after: float = 60.0
    #: a workflow Moody's has not returned for this long is given up: the job becomes ERROR
    lost_workflow_after: float


class Tracker:
    """Keeps every in-flight job of the owned shards polled and its status current."""

    def __init__(
        self,
        store: EngineStore,
        moodys: MoodysGateway,
        leases: LeaseKeeper,
        health: DatabaseHealth,
        events: TransitionEvents,
        settings: TrackerSettings,
        *,
        on_settled: Callable[[Sequence[Moved]], None],
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._moodys = moodys
        self._leases = leases
        self._health = health
        self._events = events
        self.lost = LostWorkflows(
            store, settings.lost_workflow_after, db_retry_max=settings.db_retry_max
        )
        self.settings = settings
        self._on_settled = on_settled
        self._rng = rng or random.Random()
        self._clock = clock
        self.schedule = PollSchedule()
        self.moodys_health = MoodysHealth()
        self._wake = asyncio.Event()
        self._resync_needed = True
        self._owned: frozenset[int] = frozenset()
        self._throttled = Throttled()
        self.sweeps = 0
        self.polled = 0
        #: jobs whose status lookup failed (after the client's retries)
        self.poll_failures = 0
        #: seconds spent in sweeps (total, and the last one)
        self.sweep_seconds = 0.0
        self.last_sweep_seconds = 0.0
        self.loaded = asyncio.Event()
        self._added_during_resync: set[int] = set()
        #: operator priority: the poll budget and the waits for running commands
        self.budget = PollBudget(lambda: self.settings, clock=clock)
        #: chunks in flight at once: one per status request the gateway allows now
        self._parallelism: Callable[[], int] = getattr(
            moodys, "status_parallelism", lambda: self.settings.parallel_chunks
        )
        #: ids per chunk: what one status request carries (fewer when long ids would make
        #: its URL too long), so that every chunk is one full request
        self._request_size: Callable[[], int] = getattr(
            moodys, "status_request_size", lambda: self.settings.ids_per_request
        )

    @property
    def settings(self) -> TrackerSettings:
        """The running settings; setting them (SIGHUP) reaches the lost-workflow rule too (the
        poll budget reads them on every call)."""
        return self._settings

    @settings.setter
    def settings(self, settings: TrackerSettings) -> None:
        self._settings = settings
        self.lost.reconfigure(settings.lost_workflow_after, db_retry_max=settings.db_retry_max)

    # --- notifications from the rest of the engine ------------------------------------------
    def add(self, job_id: int, batch_id: int, status: str, workflow_id: str) -> None:
        """Start tracking a job Moody's just acknowledged."""
        now = self._clock()
        self.schedule.put(
            TrackedJob(
                job_id,
                batch_id,
                status,
                workflow_id,
                now,
                0,
                now + self.settings.policy.min_interval,
            )
        )
        self._added_during_resync.add(job_id)
        self._wake.set()

    def poll_soon(self, job_id: int) -> None:
        """Poll a tracked job at the next tick (e.g. after a cancel was refused)."""
        self.schedule.reschedule(job_id, self._clock())
        self._wake.set()

    def resync_soon(self) -> None:
        """Reload the in-flight set from the database at the next tick."""
        self._resync_needed = True
        self._wake.set()

    # --- main loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        """Poll forever (a supervised task)."""
        last_resync = self._clock()
        while True:
            if (
                self._health.available
                and (
                    self._resync_needed
                    or self._leases.usable() != self._owned
                    or self._clock() - last_resync > self.settings.resync_interval
                )
                and await self._resync()
            ):
                last_resync = self._clock()
            # A sweep starts when a job is due and takes every job due within `lookahead`
            # with it: requests go out full even while jobs become due one by one (a stream
            # of acknowledgements), and no job is polled later than it is due.
            now = self._clock()
            next_due = self.schedule.next_due()
            if next_due is not None and next_due <= now:
                allowed = self.budget.allowed() if self._health.available else 0
                polled = await self._sweep(now + self.settings.lookahead, allowed) if allowed else 0
                if polled:
                    continue
            wait = (
                self.settings.tick
                if next_due is None
                else min(self.settings.tick, max(0.0, next_due - now))
            )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(wait, 0.01))

    async def _resync(self) -> bool:
        # A load into an empty schedule (start-up, or every shard newly owned) pauses the
        # collector and is frozen afterwards; a later resync streams with it on (see collector)
        if len(self.schedule):
            return await self._load()
        with collector_paused():
            return await self._load()

    async def _load(self) -> bool:
        """Read the in-flight set of the owned shards step by step: each step aligns the
        tracked jobs it names and keeps only the new ones and the ids seen, so no step holds
        or scans all 100,000 rows on the loop."""
        owned = self._leases.usable()
        self._added_during_resync = set()
        fresh: list[InFlightJob] = []
        seen: set[int] = set()
        try:
            if owned:
                async for chunk in self._store.in_flight_batches(sorted(owned), LOAD_STEP):
                    self._align(chunk, self._clock(), fresh, seen)
                    await asyncio.sleep(0)  # loading 100k jobs must not stall the loop
            await self.lost.load(sorted(owned), self._clock())
        except DatabaseUnavailable:
            return False
        first_load = not self.loaded.is_set()
        window = self._load_window(len(fresh))
        now = self._clock()
        for count, row in enumerate(fresh):
            # first polls land uniformly at random over the window: no burst after a restart
            if row.id not in self.schedule:  # else acknowledged (added) during the load
                self.schedule.put(_tracked(row, now, now + window * self._rng.random()))
            if count % LOAD_STEP == LOAD_STEP - 1:
                await asyncio.sleep(0)  # keep the loop responsive while loading 100k jobs
        await self._forget_others(seen)
        freeze_if_large(len(fresh))
        self._owned = owned
        self._resync_needed = False
        if first_load or fresh:
            log.info(
                "tracker_loaded",
                in_flight=len(self.schedule),
                new=len(fresh),
                spread_seconds=round(window, 2),
                shards=len(owned),
            )
        self.loaded.set()
        return True

    def _align(
        self, rows: Sequence[InFlightJob], now: float, fresh: list[InFlightJob], seen: set[int]
    ) -> None:
        """One step of a load: statuses changed elsewhere are taken over, jobs not tracked
        yet are kept in ``fresh``, every id in ``seen``."""
        for row in rows:
            seen.add(row.id)
            job = self.schedule.get(row.id)
            if job is None:
                fresh.append(row)
            elif job.status != row.status:
                job.status, job.since, job.polls_in_status = row.status, now, 0

    def _load_window(self, jobs: int) -> float:
        """Seconds over which the first polls of ``jobs`` loaded jobs are spread: at most
        ``recovery_rate`` due per second, within the recovery spread and the sweep window,
        and never less than :data:`LOAD_TIE_SPREAD`."""
        return max(
            LOAD_TIE_SPREAD,
            min(
                self.settings.recovery_spread,
                jobs / self.settings.recovery_rate,
                self._sweep_window(),
            ),
        )

    def _sweep_window(self) -> float:
        """The longest a first sweep may be spread over so that no job comes due again
        before it ends: a job may be polled up to ``lookahead`` early and is due again
        ``min_interval`` later, so the spread stays a lookahead short of that (jobs the
        sweep cannot reach in time wait in due order, all before any second poll)."""
        return max(0.0, self.settings.policy.min_interval - 2 * self.settings.lookahead)

    async def _forget_others(self, seen: set[int]) -> None:
        """Stop tracking jobs that are no longer in flight on the owned shards (not ``seen``
        by the load)."""
        for count, job_id in enumerate(self.schedule.ids()):
            if count % (4 * LOAD_STEP) == 0:
                await asyncio.sleep(0)
            # a job acknowledged while the query ran is not in its answer: keep it
            if job_id not in seen and job_id not in self._added_during_resync:
                self.schedule.remove(job_id)
        if self.schedule.needs_compaction():
            await asyncio.sleep(0)
            self.schedule.compact()

    # --- one sweep ----------------------------------------------------------------------------
    async def _sweep(self, horizon: float, allowed: int) -> int:
        """Poll up to ``allowed`` jobs due by ``horizon``: chunks are taken off the schedule
        one at a time as the gateway's adaptive limit frees a status request, so as many
        requests are in flight as Moody's latency allows and no single step pops tens of
        thousands of heap entries; returns how many were polled."""
        started = self._clock()
        tasks: list[asyncio.Task[None]] = []
        taken = 0
        slots = SweepSlots(WRITE_AHEAD)

        async def one(chunk: list[TrackedJob], counted: Counted) -> None:
            try:
                await self._poll_chunk(chunk, counted.answered)
            finally:
                counted.done()

        try:
            while taken < allowed:
                await slots.room(self._parallelism)
                await self.budget.yield_to_operators()
                # the budget is checked per chunk: an operator arriving mid-sweep slows it
                budget = self.budget.allowed()
                if budget <= 0:
                    break
                # whole requests per chunk (a partial one costs a request for a few ids);
                # while operators are active, one request's worth: short loop steps
                step = max(1, min(self.settings.ids_per_request, self._request_size()))
                hurried = self.budget.hurried()
                size = step if hurried else max(step, self.settings.chunk // step * step)
                chunk = self.schedule.pop_due(horizon, min(size, allowed - taken, budget))
                if not chunk:
                    break
                taken += len(chunk)
                if hurried:
                    self.budget.spend(len(chunk))
                tasks.append(asyncio.create_task(one(chunk, slots.take())))
                await asyncio.sleep(0)  # popping the next chunk waits for a later loop step
        finally:
            if tasks:
                await asyncio.gather(*tasks)
        if taken:
            self.sweeps += 1
            self.last_sweep_seconds = self._clock() - started
            self.sweep_seconds += self.last_sweep_seconds
        return taken

    async def _poll_chunk(
        self, chunk: list[TrackedJob], answered: Callable[[], None] = lambda: None
    ) -> None:
        try:
            try:
                answers = await self._moodys.get_workflows([j.workflow_id for j in chunk])
            finally:
                answered()
            self.moodys_health.ok()
        except (RetryableError, PermanentError) as exc:
            self.moodys_health.failed(exc)
            self.poll_failures += len(chunk)
            self._throttled.warning(
                "tracking_poll_failed", type(exc).__name__, error=str(exc), jobs=len(chunk)
            )
            # while Moody's circuit is open, nothing was sent: look again at the next probe
            retry_in = getattr(exc, "retry_in", 0.0)
            self._reschedule(chunk, max(self.settings.policy.min_interval, retry_in))
            return
        self.polled += len(chunk)
        await self.budget.pause()
        now = self._clock()
        reports: list[Report] = []
        polls: list[Poll] = []
        to_persist: list[Poll] = []
        missing: list[TrackedJob] = []
        found: list[int] = []
        persist_after = self.settings.persist_unchanged_after
        for count, job in enumerate(chunk, 1):
            if count % SLICE == 0:
                await self.budget.pause()
            answer = answers.get(job.workflow_id)
            if answer is None:
                missing.append(job)
                continue
            if self.lost and job.id in self.lost:
                found.append(job.id)
            report = self._decide(job, answer, now)
            if isinstance(report, Report):
                reports.append(report)
            else:
                polls.append(report)
                if _progress_moved(job.progress, answer.progress) or (
                    now - job.persisted >= persist_after
                ):
                    job.persisted, job.progress = now, answer.progress
                    to_persist.append(report)
        moved = await self._write(reports, to_persist)
        await self.budget.pause()
        await self._apply_in_memory(moved, reports, polls, now)
        if found:
            await self.lost.found_again(found)
        if missing:
            await self._missing(missing)
        moved_ids = {m.id for m in moved}
        lost = [r.move.id for r in reports if r.move.id not in moved_ids]
        if lost:
            await self._refresh(lost)

    async def _missing(self, missing: list[TrackedJob]) -> None:
        """Moody's answered without these workflows: count, and give up the long-missing."""
        self._throttled.warning(
            "moodys_workflow_missing",
            "",
            jobs=len(missing),
            example_workflow_id=missing[0].workflow_id,
        )
        now = self._clock()
        lost = await self.lost.missing(missing, now)
        if lost:
            self._events.transitioned_many(
                [(r.id, r.batch_id, r.previous, r.status, None) for r in lost], cause="engine"
            )
            for row in lost:
                self.schedule.remove(row.id)
            self._on_settled(lost)
        gone = {row.id for row in lost}
        regular = self.settings.policy.max_interval / 4
        for job in missing:
            if job.id not in gone:
                delay = self.lost.next_check_in(job, now, regular)
                self.schedule.reschedule(job.id, now + delay * (0.75 + self._rng.random() / 4))

    def _decide(self, job: TrackedJob, answer: WorkflowStatus, now: float) -> Report | Poll:
        status = _JOB_STATUSES[job.status]
        decision = apply_reported_status(status, answer.status)
        policy = self.settings.policy
        if decision.kind == "apply" and decision.target is not None:
            target = decision.target
            poll_in = (
                None if target in TERMINAL_JOB_STATUSES else first_poll_delay(policy, self._rng)
            )
            # the status is a column of the log row (progress lives on the job); only Moody's
            # messages need JSON, and most transitions carry none: nothing to encode or store
            data = {"messages": list(answer.messages)[:20]} if answer.messages else None
            error = report_error(target, answer.messages)
            move = report_move(job.id, job.status, target, data)
            error = None if error is None else clip(error)
            # the tuple built directly (a named tuple's __new__ is a Python call: 0.8 µs)
            return _new_tuple(Report, (move, answer.progress, poll_in, error))
        if decision.kind != "unchanged":
            self._throttled.warning(
                f"job_report_{decision.kind}",
                decision.reason,
                job_id=job.id,
                workflow_id=job.workflow_id,
                status=job.status,
                reported=answer.status,
                reason=decision.reason,
            )
        delay = next_poll_delay(status, now - job.since, job.polls_in_status, policy, self._rng)
        return Poll(job.id, job.status, answer.progress, delay)

    async def _write(self, reports: list[Report], polls: list[Poll]) -> list[Moved]:
        backoff = 0.5
        while True:
            try:
                moved = await self._apply(reports)
                await self._store.record_polls(polls)
                return moved
            except DatabaseUnavailable:
                await self._health.backoff(backoff)
                backoff = min(backoff * 2, self.settings.db_retry_max)

    async def _apply(self, reports: list[Report]) -> list[Moved]:
        if not reports:
            return []
        moves, progress, poll_in, errors = zip(*reports, strict=True)
        return await self._store.apply_moves(
            moves, report_effects(progress, poll_in, errors), "moodys"
        )

    async def _apply_in_memory(
        self, moved: list[Moved], reports: list[Report], polls: list[Poll], now: float
    ) -> None:
        poll_in = {r.move.id: r.poll_in for r in reports}
        settled: list[Moved] = []
        events: list[tuple[int, int, str, str, str | None]] = []
        schedule = self.schedule
        for count, row in enumerate(moved, 1):
            if count % SLICE == 0:
                await self.budget.pause()
            job = schedule.get(row.id)
            events.append(
                (row.id, row.batch_id, row.previous, row.status, job.workflow_id if job else None)
            )
            delay = poll_in.get(row.id)
            if delay is None or row.status in TERMINAL_JOB_STATUSES:
                schedule.remove(row.id)
                settled.append(row)
            elif job is not None:
                job.status, job.since, job.polls_in_status = row.status, now, 0
                schedule.reschedule_job(job, now + delay)
        if events:
            self._events.transitioned_many(events)
        for count, poll in enumerate(polls, 1):
            if count % SLICE == 0:
                await self.budget.pause()
            job = schedule.get(poll.job_id)
            if job is not None:
                job.polls_in_status += 1
                schedule.reschedule_job(job, now + poll.poll_in)
        if settled:
            self._on_settled(settled)

    async def _refresh(self, job_ids: Iterable[int]) -> None:
        """Re-read jobs whose compare-and-set lost (someone else moved them)."""
        try:
            rows = await self._store.job_states(list(job_ids))
        except DatabaseUnavailable:
            self._resync_needed = True
            return
        now = self._clock()
        for row in rows:
            tracked = (
                row.status in IN_FLIGHT_JOB_STATUSES
                and row.workflow_id
                and row.id % SHARDS in self._owned
            )
            if not tracked:
                self.schedule.remove(row.id)
                continue
            self.schedule.put(_tracked(row, now, now + self.settings.policy.min_interval))
        # Settled meanwhile — possibly by this tracker's own write whose commit was lost with
        # the connection (a database restart): its batch still needs reconciling.
        settled = [
            Moved(r.id, r.batch_id, r.status) for r in rows if r.status in TERMINAL_JOB_STATUSES
        ]
        if settled:
            self._on_settled(settled)

    def _reschedule(self, jobs: Iterable[TrackedJob], base: float) -> None:
        now = self._clock()
        for job in jobs:
            self.schedule.reschedule(job.id, now + base * (0.75 + self._rng.random() / 2))


#: status text → JobStatus without the enum's call machinery (once per polled job)
_JOB_STATUSES: Final = {status.value: status for status in JobStatus}

#: jobs decided or applied between two checks for operator activity
SLICE = 100

#: jobs loaded (or scheduled) per event-loop step while loading the in-flight set
LOAD_STEP = 1000

#: progress is written when it moved by at least this many points (or a minute passed)
PROGRESS_STEP = 10


def _progress_moved(stored: int | None, reported: int | None) -> bool:
    if reported is None:
        return False
    return stored is None or abs(reported - stored) >= PROGRESS_STEP or reported == 100


def _tracked(row: InFlightJob, now: float, due: float) -> TrackedJob:
    return TrackedJob(
        row.id,
        row.batch_id,
        row.status,
        row.workflow_id,
        now - row.seconds_in_status,
        row.poll_count,
        due,
    )
