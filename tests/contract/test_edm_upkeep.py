"""The two EDM upkeep batch types against the fake: create a reinsurance treaty (synchronous,
with its lines of business) and upgrade an EDM's data version (a workflow)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import MoodysBadRequest, UnresolvedReference
from irpd.moodys.fake import FakeMoodys
from irpd.moodys.settings import MoodysSettings

EDM = "RM_EDM_202503_UPKEEP"
METADATA = {"EDM Data Version": "23"}


def treaty_job(name: str = "TR_WX_2025", **values: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "batch_type": "create_reinsurance_treaties", "job_key": f"{EDM}/{name}",
        "metadata": METADATA, "database": EDM, "treaty_name": name,
        "treaty_number": "TR-2025-000000000001-LONG", "treaty_type": "Working Excess",
        "risk_limit": 5_000_000, "occurrence_limit": 10_000_000, "attachment_point": 1_000_000,
        "inception_date": "2025-01-01", "expiration_date": "2026-01-01", "currency": "USD",
        "attachment_basis": "Losses Occurring", "attachment_level": "Policy",
        "pct_covered": 100, "pct_placed": 100, "pct_share": 100, "pct_retention": 0,
        "premium": 750_000, "reinstatements": 1, "pct_reinstatement_charge": 100,
        "aggregate_limit": 20_000_000, "aggregate_deductible": 0, "priority": 1,
    }
    config.update(values)
    return config


def upgrade_job(database: str = EDM) -> dict[str, Any]:
    return {"batch_type": "edm_db_upgrade", "job_key": database, "metadata": METADATA,
            "database": database, "edm_data_version": "23"}


async def test_a_treaty_is_created_synchronously_with_every_line_of_business(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    key = uuid.uuid4()
    result = await client.submit(treaty_job(), workflow_name="TR_WX_2025", request_id=key)
    assert (result.workflow_id, result.completed) == (None, True)
    entry = next(e for e in fake.ledger if e.request_id == str(key))
    assert (entry.operation, entry.type, entry.name) == ("create_treaty", "TREATY", "TR_WX_2025")
    body = entry.body
    assert body["treatyNumber"] == "TR-2025-000000000001"  # cut to Moody's 20 characters
    assert body["treatyType"] == {"code": "WX", "name": "Working Excess"}
    assert body["attachBasis"]["code"] == "L"
    assert body["attachLevel"]["code"] == "POL"
    assert body["currency"] == {"code": "USD", "name": "US Dollar"}
    assert body["cedant"]["name"] == "Default Cedant"
    assert (body["riskLimit"], body["pcntRiShare"], body["numOfReinst"]) == (5_000_000, 100, 1)
    treaty_id = int(result.response["created_id"])
    assert fake.context.registry.treaty_lobs(treaty_id) == {"1", "2"}
    # the analysis that names it now finds the real treaty
    assert await client.lookups.treaty_id(EDM, "TR_WX_2025") == treaty_id


async def test_a_replayed_treaty_create_is_one_treaty_and_a_second_name_is_refused(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    key = uuid.uuid4()
    first = await client.submit(treaty_job(), workflow_name="TR", request_id=key)
    again = await client.submit(treaty_job(), workflow_name="TR", request_id=key)
    assert again.response["created_id"] == first.response["created_id"]
    assert [e.replay for e in fake.ledger if e.request_id == str(key)] == [False, True]
    with pytest.raises(MoodysBadRequest) as duplicate:
        await client.submit(treaty_job(), workflow_name="TR", request_id=uuid.uuid4())
    assert duplicate.value.code == "TREATY-001"


async def test_unknown_coded_values_and_bad_terms_are_refused(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    with pytest.raises(UnresolvedReference, match="treaty type 'Stop Loss'"):
        await client.submit(treaty_job(treaty_type="Stop Loss"), workflow_name="TR",
                            request_id=uuid.uuid4())
    with pytest.raises(MoodysBadRequest) as dates:
        await client.submit(
            treaty_job("TR_DATES", expiration_date="2024-12-31"), workflow_name="TR",
            request_id=uuid.uuid4(),
        )
    assert dates.value.code == "TREATY-008"
    assert not [e for e in fake.ledger if e.operation == "create_treaty" and e.status == 201]


async def test_an_edm_data_upgrade_is_a_workflow(client: MoodysClient, fake: FakeMoodys) -> None:
    key = uuid.uuid4()
    result = await client.submit(upgrade_job(), workflow_name="UPGRADE_1", request_id=key)
    entry = next(e for e in fake.ledger if e.request_id == str(key))
    assert (entry.type, entry.name) == ("EDM_DATA_UPGRADE", f"EDM_DATA_UPGRADE {EDM}")
    assert not result.completed
    assert result.workflow_id == entry.workflow_id
    assert result.request["params"]["operation"] == "EDM_DATA_UPGRADE"


async def test_a_strict_tenant_refuses_upkeep_of_an_edm_it_does_not_have(
    start_fake: Callable[..., AbstractAsyncContextManager[FakeMoodys]],
    settings_for: Callable[..., MoodysSettings],
) -> None:
    async with (
        start_fake(strict_references=True) as strict,
        MoodysClient(settings_for(strict)) as client,
    ):
        with pytest.raises(MoodysBadRequest) as upgrade:
            await client.submit(upgrade_job("NO_SUCH_EDM"), workflow_name="U",
                                request_id=uuid.uuid4())
        assert upgrade.value.code == "DS-404"
        with pytest.raises(UnresolvedReference, match="cedant"):
            await client.submit(treaty_job(database="NO_SUCH_EDM"), workflow_name="T",
                                request_id=uuid.uuid4())
