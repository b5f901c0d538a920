"""Engine writes as the dispatcher and tracker make them: moves from the job machines,
applied by ``EngineStore.apply_moves`` (for tests that drive the store directly)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from irpd.db import moves as effects
from irpd.db.engine_store import Acknowledged, EngineStore, Moved
from statemachines.job import JOB_LIFECYCLE, JobStatus, report_move


async def begin_submit(
    store: EngineStore, intents: Sequence[tuple[int, uuid.UUID, str]]
) -> set[int]:
    """INITIATED → SUBMITTING with key and name; the ids that moved."""
    if not intents:
        return set()
    moves = [JOB_LIFECYCLE.move(i, JobStatus.INITIATED, "begin_submit") for i, _, _ in intents]
    keys = [key for _, key, _ in intents]
    names = [name for _, _, name in intents]
    return {m.id for m in await store.apply_moves(moves, effects.submit_intents(keys, names))}


async def acknowledge(
    store: EngineStore, acks: Sequence[tuple[int, str, dict[str, Any], dict[str, Any], float]]
) -> list[Acknowledged]:
    """SUBMITTING → SUBMITTED with the workflow id."""
    moves = [JOB_LIFECYCLE.move(a[0], JobStatus.SUBMITTING, "acknowledge") for a in acks]
    _, workflows, requests, responses, polls = zip(*acks, strict=True)
    return await store.acknowledge(
        moves, effects.acknowledgements(workflows, requests, responses, polls)
    )


async def settle(
    store: EngineStore, settled: Sequence[tuple[int, str, str | None]]
) -> list[Moved]:
    """``(job id, trigger, error)``: SUBMITTING → FINISHED / ERROR."""
    moves = [JOB_LIFECYCLE.move(i, JobStatus.SUBMITTING, trigger) for i, trigger, _ in settled]
    return await store.apply_moves(
        moves,
        effects.settlements(
            [error for _, _, error in settled],
            [{}] * len(settled),
            [{}] * len(settled),
            [trigger == "complete_synchronously" for _, trigger, _ in settled],
        ),
    )


async def report(
    store: EngineStore,
    reports: Sequence[tuple[int, str, JobStatus, int | None, float | None, str | None]],
) -> list[Moved]:
    """``(job id, expected, reported, progress, poll_in, error)`` applied as the tracker does."""
    moves = [report_move(i, expected, target) for i, expected, target, *_ in reports]
    return await store.apply_moves(
        moves,
        effects.reports([r[3] for r in reports], [r[4] for r in reports], [r[5] for r in reports]),
        "moodys",
    )
