"""Configurations: workbook dry runs, registration, replacement rules, refusals."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from irpd.errors import ConfigurationError
from irpd.ops import Operations, WorkbookRejectedError
from irpd.samples import sample_bytes, sample_path

from .support import Fingerprint, jobs_workbook

Snapshot = Callable[[], Awaitable[Fingerprint]]


async def test_register_the_sample_cycle_workbook_from_a_path(
    ops: Operations, cycle: dict[str, Any]
) -> None:
    path = sample_path()
    loaded = await ops.configurations.load_configuration(cycle["cycle_name"], path)
    assert loaded["valid"] is True
    assert loaded["status"] == "VALID"
    assert loaded["configuration_file_name"] == path.name
    assert loaded["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert loaded["replaced_configuration_ids"] == []
    stored = await ops.configurations.read_configuration(loaded["configuration_id"])
    assert stored["cycle_id"] == cycle["id"]
    assert stored["status"] == "VALID"
    assert "Analysis Table" in stored["configuration_data"]
    listed = await ops.configurations.list_configurations(cycle["id"])
    assert [c["id"] for c in listed] == [loaded["configuration_id"]]
    assert "configuration_data" not in listed[0]


async def test_dry_run_validates_without_writing(
    ops: Operations, cycle: dict[str, Any], snapshot: Snapshot
) -> None:
    before = await snapshot()
    checked = await ops.configurations.load_configuration(
        cycle["id"], sample_bytes(), register=False, file_name="cycle.xlsx"
    )
    assert checked["dry_run"] is True
    assert checked["valid"] is True
    assert "configuration_id" not in checked
    assert "Metadata" in checked["sheets"]
    broken = await ops.configurations.load_configuration(
        cycle["id"], b"not a workbook", register=False, file_name="broken.xlsx"
    )
    assert broken["valid"] is False
    assert broken["problems"][0]["code"].startswith("STRUCT-")
    assert await snapshot() == before


async def test_a_workbook_with_problems_is_refused_with_every_problem(
    ops: Operations, cycle: dict[str, Any], snapshot: Snapshot
) -> None:
    before = await snapshot()
    with pytest.raises(WorkbookRejectedError) as refused:
        await ops.configurations.load_configuration(
            cycle["id"], b"PK\x03\x04junk", file_name="junk.xlsx"
        )
    assert isinstance(refused.value, ConfigurationError)
    assert refused.value.problems
    assert {"sheet", "row", "column", "code", "message"} <= set(refused.value.problems[0])
    assert "Workbook 'junk.xlsx' has" in str(refused.value)
    assert "nothing was registered" in str(refused.value)
    assert await snapshot() == before


async def test_registering_replaces_configurations_without_batches(
    ops: Operations, cycle: dict[str, Any]
) -> None:
    first = await ops.configurations.load_configuration(
        cycle["id"], jobs_workbook(2), file_name="a.xlsx"
    )
    second = await ops.configurations.load_configuration(
        cycle["id"], jobs_workbook(3), file_name="b.xlsx"
    )
    assert second["replaced_configuration_ids"] == [first["configuration_id"]]
    listed = await ops.configurations.list_configurations(cycle["cycle_name"])
    assert [c["configuration_file_name"] for c in listed] == ["b.xlsx"]
    with pytest.raises(
        ConfigurationError, match=re.escape(f"Configuration {first['configuration_id']} not")
    ):
        await ops.configurations.read_configuration(first["configuration_id"])


async def test_a_configuration_with_batches_is_not_replaced(
    ops: Operations, batch: dict[str, Any], configuration_id: int, snapshot: Snapshot
) -> None:
    before = await snapshot()
    with pytest.raises(ConfigurationError, match="already has batches"):
        await ops.configurations.load_configuration("2026-Q1", jobs_workbook(1), file_name="c.xlsx")
    assert await snapshot() == before
    await ops.batches.submit_batch(batch["batch_id"])
    assert (await ops.configurations.read_configuration(configuration_id))["status"] == "ACTIVE"
    with pytest.raises(ConfigurationError, match="has ACTIVE configuration"):
        await ops.configurations.load_configuration("2026-Q1", jobs_workbook(1), file_name="c.xlsx")


async def test_only_the_active_cycle_takes_configurations(
    ops: Operations, cycle: dict[str, Any], snapshot: Snapshot
) -> None:
    await ops.cycles.create_cycle("2026-Q2")
    before = await snapshot()
    for register in (True, False):
        with pytest.raises(ConfigurationError, match="'2026-Q1' is ARCHIVED"):
            await ops.configurations.load_configuration(
                "2026-Q1", jobs_workbook(1), register=register, file_name="x.xlsx"
            )
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda ops: ops.configurations.load_configuration("nope", b"x", file_name="x.xlsx"),
            "Cycle 'nope'",
        ),
        (
            lambda ops: ops.configurations.load_configuration(-3, b"x", file_name="x"),
            "Invalid cycle_id: -3.",
        ),
        (lambda ops: ops.configurations.load_configuration(1, b"x"), "file_name: required when"),
        (lambda ops: ops.configurations.load_configuration(1, 42), "Invalid source: 42."),
        (lambda ops: ops.configurations.load_configuration(1, ""), "Invalid source: ."),
        (
            lambda ops: ops.configurations.load_configuration(
                1, b"x", register="yes", file_name="x"
            ),
            "Invalid register: yes.",
        ),
        (
            lambda ops: ops.configurations.load_configuration(1, Path("/nonexistent/cycle.xlsx")),
            "Configuration file not found: /nonexistent/cycle.xlsx",
        ),
        (lambda ops: ops.configurations.read_configuration(0), "Invalid configuration_id: 0."),
        (
            lambda ops: ops.configurations.read_configuration(12345),
            "Configuration 12345 not found.",
        ),
        (
            lambda ops: ops.configurations.list_configurations(status="DONE"),
            "Invalid status: DONE.",
        ),
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
    with pytest.raises(ConfigurationError) as refused:
        await call(ops)
    assert message in str(refused.value)
    assert await snapshot() == before
