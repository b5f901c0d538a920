"""The operator storm: several control clients resubmit, submit and cancel the jobs of one
batch while the daemon submits and tracks it, and Moody's fails half of the workflows.

Each client is a thread with its own control connection (the daemon sees concurrent
operators). What it may be told is recorded: a refusal (``JobError``, ``StaleStateError``,
``ConcurrencyConflict``…) is an answer, ``InternalError`` is a bug.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from irpd.control.client import ControlClient, DaemonRefused, DaemonUnreachable

#: job statuses after which a job can be replaced by a resubmission
RESUBMITTABLE = frozenset({"FAILED", "ERROR", "CANCELLED"})
#: an operator pauses up to this long between commands (0.25 s on average)
PACE_SECONDS = 0.5
#: job statuses a cancel acts on
CANCELLABLE = frozenset({"INITIATED", "SUBMITTING", "SUBMITTED", "QUEUED", "PENDING", "RUNNING"})


@dataclass
class StormTally:
    """Answers the clients received, by command and outcome (``ok`` or the error type)."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)
    internal_errors: list[str] = field(default_factory=list)
    #: the first message of each (command, outcome), for the report
    samples: dict[tuple[str, str], str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, command: str, outcome: str, message: str = "") -> None:
        """Count one answer; keep the message of every ``InternalError``."""
        with self.lock:
            self.answers[(command, outcome)] += 1
            self.samples.setdefault((command, outcome), message[:200])
            if outcome == "InternalError":
                self.internal_errors.append(f"{command}: {message}")

    def describe(self) -> str:
        """One line: every (command, outcome) count."""
        return ", ".join(f"{c} {o}={n}" for (c, o), n in sorted(self.answers.items()))


def _call(
    client: ControlClient, tally: StormTally, command: str, **args: Any
) -> Mapping[str, Any] | None:
    try:
        result = client.call(command, args)
    except DaemonRefused as refused:
        tally.record(command, refused.kind, refused.message)
        return None
    tally.record(command, "ok")
    return result if isinstance(result, Mapping) else {}


def _operator(
    socket_path: Path,
    batch_id: int,
    operations: int,
    seed: int,
    tally: StormTally,
    stop: threading.Event,
) -> None:
    """One operator: ``operations`` commands on random jobs of the batch, chosen by status."""
    rng = random.Random(seed)
    with ControlClient(socket_path, timeout=120) as client:
        for index in range(operations):
            if stop.is_set():
                return
            # a burst while the batch is being submitted (the engine then creates the
            # batch's count rows: issue 11's deadlock), then spread over seconds so that the
            # storm meets failed and settled jobs too
            if index >= operations // 3:
                time.sleep(rng.uniform(0.0, PACE_SECONDS))
            listed = _call(client, tally, "batch.jobs", batch_id=batch_id, skipped=False)
            jobs: Sequence[Mapping[str, Any]] = listed["jobs"] if listed else []
            if not jobs:
                continue
            job = rng.choice(jobs)
            job_id, status = int(job["id"]), str(job["status"])
            roll = rng.random()
            if status in RESUBMITTABLE or (status == "INITIATED" and roll < 0.5):
                created = _call(client, tally, "job.resubmit", job_id=job_id)
                if created is not None and rng.random() < 0.7:
                    _call(client, tally, "job.submit", job_id=int(created["job_id"]))
            elif status == "INITIATED":
                _call(client, tally, "job.submit", job_id=job_id)
            elif status in CANCELLABLE and roll < 0.15:
                _call(client, tally, "job.cancel", job_id=job_id)
            elif roll < 0.25:  # queues whatever a resubmission left unqueued
                _call(client, tally, "batch.submit", batch_id=batch_id)
            else:  # refused (in flight): contention all the same
                _call(client, tally, "job.resubmit", job_id=job_id)


def run_storm(
    socket_path: Path, batch_id: int, *, clients: int, operations: int, seed: int
) -> StormTally:
    """Run ``clients`` operators of ``operations`` commands each, concurrently; returns what
    they were told. A client that loses the daemon stops the others."""
    tally = StormTally()
    stop = threading.Event()
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            _operator(socket_path, batch_id, operations, seed * 100 + index, tally, stop)
        except (DaemonUnreachable, OSError) as lost:
            failures.append(lost)
            stop.set()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        tally.record("connection", "lost", str(failures[0]))
    return tally
