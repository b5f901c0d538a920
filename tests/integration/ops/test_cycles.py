"""Cycles: exactly one ACTIVE, creation archives the previous one, refusals write nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from irpd.errors import CycleError
from irpd.ops import Operations

from .support import Fingerprint

Snapshot = Callable[[], Awaitable[Fingerprint]]


async def test_creating_a_cycle_archives_the_previous_one(ops: Operations) -> None:
    first = await ops.cycles.create_cycle("2026-Q1")
    assert first["status"] == "ACTIVE"
    assert first["archived_cycle"] is None
    second = await ops.cycles.create_cycle("  2026-Q2 ")
    assert second["cycle_name"] == "2026-Q2"
    archived = second["archived_cycle"]
    assert archived is not None
    assert archived["id"] == first["id"]
    assert archived["status"] == "ARCHIVED"
    active = await ops.cycles.active_cycle()
    assert active is not None
    assert active["id"] == second["id"]
    listed = await ops.cycles.list_cycles()
    assert [(c["cycle_name"], c["status"]) for c in listed] == [
        ("2026-Q1", "ARCHIVED"),
        ("2026-Q2", "ACTIVE"),
    ]
    assert [c["cycle_name"] for c in await ops.cycles.list_cycles("ARCHIVED")] == ["2026-Q1"]
    assert isinstance(listed[0]["archived_ts"], str)  # ISO timestamps


async def test_archive_then_no_active_cycle(ops: Operations) -> None:
    cycle = await ops.cycles.create_cycle("2026-Q1")
    archived = await ops.cycles.archive_cycle("2026-Q1")
    assert archived["status"] == "ARCHIVED"
    assert await ops.cycles.active_cycle() is None
    with pytest.raises(CycleError, match="already ARCHIVED"):
        await ops.cycles.archive_cycle(cycle["id"])
    assert (await ops.cycles.read_cycle(cycle["id"]))["status"] == "ARCHIVED"


async def test_a_cycle_with_active_batches_is_not_archived(
    ops: Operations, batch: dict[str, Any], snapshot: Snapshot
) -> None:
    await ops.batches.submit_batch(batch["batch_id"])
    before = await snapshot()
    with pytest.raises(CycleError, match=(
        f"^Cycle '2026-Q1' has 1 ACTIVE batch\\(es\\) \\({batch['batch_id']}\\); let them "
        "finish, or resubmit or skip the jobs they wait for"
    )):
        await ops.cycles.create_cycle("2026-Q2")
    with pytest.raises(CycleError, match="has 1 ACTIVE batch"):
        await ops.cycles.archive_cycle("2026-Q1")
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda ops: ops.cycles.create_cycle("2026-Q1"), "Cycle '2026-Q1' already exists."),
        (lambda ops: ops.cycles.create_cycle(""), "Invalid cycle_name: must not be blank."),
        (lambda ops: ops.cycles.create_cycle(7), "Invalid cycle_name: must be a string, got int."),
        (lambda ops: ops.cycles.create_cycle("x" * 256), "256 characters; at most 255"),
        (lambda ops: ops.cycles.archive_cycle("nope"), "Cycle 'nope' not found."),
        (lambda ops: ops.cycles.archive_cycle(99), "Cycle 99 not found."),
        (
            lambda ops: ops.cycles.archive_cycle(-1),
            "Invalid cycle_id: -1. Must be a positive integer.",
        ),
        (
            lambda ops: ops.cycles.read_cycle(True),
            "Invalid cycle_id: True. Must be a positive integer.",
        ),
        (lambda ops: ops.cycles.list_cycles("OPEN"), "Invalid status: OPEN. Must be one of"),
    ],
)
async def test_refusals_write_nothing(
    ops: Operations,
    cycle: dict[str, Any],
    snapshot: Snapshot,
    call: Callable[[Operations], Awaitable[Any]],
    message: str,
) -> None:
    before = await snapshot()
    with pytest.raises(CycleError) as refused:
        await call(ops)
    assert message in str(refused.value)
    assert await snapshot() == before
