"""Every batch type's submission against the fake, checked in the fake's ledger."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import InvalidJobConfiguration, MoodysBadRequest, UnresolvedReference
from irpd.moodys.fake import FakeMoodys, LedgerEntry
from irpd.moodys.staging import step_key

EDM = "RM_EDM_202503_CONTRACT"
METADATA = {"Current Date Value": "2025-03-31", "Geocode Version": "23.1.0",
            "Hazard Version": "23.0", "Export RDM Name": "RM_RDM_202503"}
DLM_PROFILE = "DLM CBHU v23 USFL"
HD_PROFILE = "HD Flood v23 USFL"
OUTPUT_PROFILE = "Patched Portfolio Level Only (EP, ELT, Stats)"
EVENT_RATES = "RMS 2023 Stochastic Event Rates"


def job(batch_type: str, **values: Any) -> dict[str, Any]:
    return {"batch_type": batch_type, "metadata": METADATA, "job_key": "k-1", **values}


def analysis_job(name: str = "AN_1", **values: Any) -> dict[str, Any]:
    defaults: dict[str, Any] = {
        "database": EDM, "portfolio": "PORT_A", "analysis_name": name,
        "analysis_profile": DLM_PROFILE, "output_profile": OUTPUT_PROFILE,
        "event_rate": EVENT_RATES, "treaties": ["TREATY_1", "TREATY_2"], "tags": ["T"],
        "currency": "USD",
    }
    defaults.update(values)
    return job("analysis", **defaults)


def last_segment(location: str | None) -> str:
    assert location is not None
    return location.rsplit("/", 1)[-1]


def only_entry(fake: FakeMoodys, key: uuid.UUID) -> LedgerEntry:
    entries = [e for e in fake.ledger if e.request_id == str(key)]
    assert len(entries) == 1, entries
    return entries[0]


async def test_create_edm(client: MoodysClient, fake: FakeMoodys, api_key: str) -> None:
    key = uuid.uuid4()
    result = await client.submit(job("edm_creation", database=EDM, store_in_data_bridge=False),
                                 workflow_name="EDM_1", request_id=key)
    entry = only_entry(fake, key)
    assert (entry.operation, entry.type, entry.name) == ("create_edm", "CREATE_EDM", EDM)
    assert not result.completed
    assert result.workflow_id == entry.workflow_id
    assert result.request["headers"]["X-RMS-RequestId"] == str(key)
    assert "x-rms-resource-group-id" in result.request["headers"]
    assert result.response["status"] == 202
    assert api_key not in repr(result)


async def test_duplicate_and_invalid_edm_names_are_permanent(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    config = job("edm_creation", database=EDM, store_in_data_bridge=False)
    await client.submit(config, workflow_name="EDM_1", request_id=uuid.uuid4())
    with pytest.raises(MoodysBadRequest) as duplicate:
        await client.submit(config, workflow_name="EDM_1", request_id=uuid.uuid4())
    assert duplicate.value.code == "DS-507"
    with pytest.raises(MoodysBadRequest) as invalid:
        await client.submit(job("edm_creation", database="bad--name"), workflow_name="EDM_2",
                            request_id=uuid.uuid4())
    assert invalid.value.code == "DS-400"
    rejected = [r for r in fake.requests if r.status == 400]
    assert len(rejected) == 2, "a 400 is never retried"


async def test_create_portfolio_is_synchronous_and_idempotent(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    config = job("portfolio_creation", database=EDM, portfolio="PORT_A", import_file="FILE_A")
    key = uuid.uuid4()
    first = await client.submit(config, workflow_name="PORT_A", request_id=key)
    again = await client.submit(config, workflow_name="PORT_A", request_id=key)
    assert (first.workflow_id, first.completed) == (None, True)
    assert again.response["created_id"] == first.response["created_id"]
    assert len(fake.submissions("PORT_A")) == 1
    assert [e.replay for e in fake.ledger if e.request_id == str(key)] == [False, True]
    with pytest.raises(MoodysBadRequest) as duplicate:
        await client.submit(config, workflow_name="PORT_A", request_id=uuid.uuid4())
    assert duplicate.value.code == "PORTFOLIO-001"


async def test_mri_import_stages_files_with_derived_keys(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    config = job("mri_import", database=EDM, portfolio="PORT_A", import_file="FILE_A",
                 accounts_file="FILE_A_ACC_202503.txt", locations_file="FILE_A_LOC_202503.txt")
    key = uuid.uuid4()
    result = await client.submit(config, workflow_name="MRI_1", request_id=key)
    operations = [e.operation for e in fake.ledger]
    assert operations == ["create_bucket", "register_file", "register_file", "mri_import"]
    bucket, accounts, locations, final = fake.ledger
    assert bucket.request_id == str(step_key(key, "storage"))
    assert accounts.request_id == str(step_key(key, "storage-file:account"))
    assert locations.request_id == str(step_key(key, "storage-file:location"))
    assert final.request_id == str(key)
    assert final.type == "MRI_IMPORT"
    body = final.body
    assert str(body["bucketId"]) == last_segment(bucket.location)
    assert str(body["accountsFileId"]) == last_segment(accounts.location)
    assert str(body["locationsFileId"]) == last_segment(locations.location)
    assert body["dataSourceName"] == EDM
    assert result.workflow_id == final.workflow_id
    steps = result.request["steps"]
    assert [s["step"] for s in steps] == ["storage", "storage-file:account",
                                          "storage-file:location"]
    assert steps[1]["response"]["body"]["secretAccessKey"] == "***"
    again = await client.submit(config, workflow_name="MRI_1", request_id=key)
    assert again.workflow_id == result.workflow_id
    assert all(e.replay for e in fake.ledger[4:])
    assert len(fake.submissions()) == 4


async def test_geohaz(client: MoodysClient, fake: FakeMoodys) -> None:
    key = uuid.uuid4()
    config = job("geohaz", database=EDM, portfolio="PORT_A", import_file="FILE_A",
                 geocode_version="23.1", hazard_version="23.0")
    result = await client.submit(config, workflow_name="GEO_1", request_id=key)
    entry = only_entry(fake, key)
    portfolio_id = result.request["resolved"]["portfolio_id"]
    assert entry.type == "GEOHAZ"
    assert entry.path == f"/riskmodeler/v2/portfolios/{portfolio_id}/geohaz?datasource={EDM}"
    assert [(layer["type"], layer["version"]) for layer in entry.body] == [
        ("geocode", "23.1"), ("hazard", "23.0")]


async def test_analysis_resolves_every_name(client: MoodysClient, fake: FakeMoodys) -> None:
    key = uuid.uuid4()
    result = await client.submit(analysis_job(), workflow_name="AN_1", request_id=key)
    entry = only_entry(fake, key)
    body = entry.body
    profile = await client.model_profile(DLM_PROFILE)
    scheme = await client.event_rate_scheme_id(
        EVENT_RATES, peril_code=profile.peril_code, model_region_code=profile.model_region_code
    )
    assert (entry.type, entry.name, body["jobName"]) == ("ANALYTICS_JOB", "AN_1", "AN_1")
    assert body["modelProfileId"] == profile.id
    assert body["outputProfileId"] == await client.output_profile_id(OUTPUT_PROFILE)
    assert body["eventRateSchemeId"] == scheme
    assert len(body["treaties"]) == 2
    assert all(isinstance(t, int) for t in body["treaties"])
    assert body["currency"]["code"] == "USD"
    assert result.request["resolved"]["engine"] == "DLM"


async def test_hd_analysis_needs_no_event_rate(client: MoodysClient, fake: FakeMoodys) -> None:
    key = uuid.uuid4()
    await client.submit(analysis_job(analysis_profile=HD_PROFILE, event_rate=None),
                        workflow_name="AN_HD", request_id=key)
    assert "eventRateSchemeId" not in only_entry(fake, key).body


async def test_dlm_analysis_without_event_rate_is_refused(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    with pytest.raises(InvalidJobConfiguration, match="event rate"):
        await client.submit(analysis_job(event_rate=None), workflow_name="AN_1",
                            request_id=uuid.uuid4())
    assert fake.ledger == []


@pytest.mark.parametrize(("field", "what"), [
    ("analysis_profile", "model profile"),
    ("output_profile", "output profile"),
    ("event_rate", "event rate scheme"),
])
async def test_unknown_reference_names_are_permanent_and_named(
    client: MoodysClient, fake: FakeMoodys, field: str, what: str
) -> None:
    with pytest.raises(UnresolvedReference) as caught:
        await client.submit(analysis_job(**{field: "No Such Name v99"}), workflow_name="AN_1",
                            request_id=uuid.uuid4())
    assert caught.value.what == what
    assert "No Such Name v99" in str(caught.value)
    assert fake.ledger == [], "nothing is submitted when a name does not resolve"


async def test_strict_references_and_real_results_end_to_end(start_fake: Any,
                                                             settings_for: Any) -> None:
    async with start_fake(strict_references=True) as fake, \
            MoodysClient(settings_for(fake)) as client:
        with pytest.raises(UnresolvedReference, match="portfolio 'PORT_A' not found"):
            await client.submit(analysis_job(treaties=[]), workflow_name="AN_1",
                                request_id=uuid.uuid4())
        created = await client.submit(
            job("portfolio_creation", database=EDM, portfolio="PORT_A", import_file="F"),
            workflow_name="PORT_A", request_id=uuid.uuid4())
        for name in ("AN_1", "AN_2"):
            await client.submit(analysis_job(name, treaties=[]), workflow_name=name,
                                request_id=uuid.uuid4())
        analysis_body = fake.submissions("AN_1")[0].body
        assert str(analysis_body["id"]) == created.response["created_id"]
        with pytest.raises(UnresolvedReference, match="AN_1"):
            await client.submit(job("grouping", group_name="GRP_1", items=["AN_1", "AN_2"]),
                                workflow_name="GRP_1", request_id=uuid.uuid4())
        fake.advance(100_000)
        group = await client.submit(
            job("grouping", group_name="GRP_1", items=["AN_1", "AN_2"]),
            workflow_name="GRP_1", request_id=uuid.uuid4())
        grouping_entry = fake.submissions("GRP_1")[0]
        assert grouping_entry.type == "GROUPING"
        assert grouping_entry.status == 201
        assert sorted(grouping_entry.body["analysisIds"]) == sorted(
            group.request["resolved"]["analysis_ids"])
        fake.advance(100_000)
        await client.submit(job("grouping_rollup", group_name="ROLLUP_1", items=["GRP_1"]),
                            workflow_name="ROLLUP_1", request_id=uuid.uuid4())
        fake.advance(100_000)
        exports = [
            job("export_to_rdm", rdm_name="RM_RDM_202503", name=name, seed=index == 0,
                database=EDM)
            for index, name in enumerate(["AN_1", "AN_2", "GRP_1", "ROLLUP_1"])
        ]
        await client.submit(exports[0], workflow_name="EXP_1", request_id=uuid.uuid4())
        with pytest.raises(MoodysBadRequest) as not_yet:
            await client.submit(exports[1], workflow_name="EXP_2", request_id=uuid.uuid4())
        assert not_yet.value.code == "DS-001"
        fake.advance(100_000)
        for index, config in enumerate(exports[1:], start=2):
            await client.submit(config, workflow_name=f"EXP_{index}", request_id=uuid.uuid4())
        export_entries = [e for e in fake.submissions() if e.type == "EXPORT_RDM"]
        assert [e.body["createnew"] for e in export_entries] == [True, False, False, False]
        assert all(len(e.body["analysisIds"]) == 1 for e in export_entries)


@pytest.mark.parametrize("batch_type", ["default", "multi_job"])
async def test_generic_workflow(client: MoodysClient, fake: FakeMoodys, batch_type: str) -> None:
    config = {"batch_type": batch_type, "metadata": {}, "job_key": "k", "payload": {"x": [1, 2]}}
    key = uuid.uuid4()
    result = await client.submit(config, workflow_name="cycle-1 job-7", request_id=key)
    entry = only_entry(fake, key)
    assert (entry.type, entry.name) == ("USER_DEFINED", "cycle-1 job-7")
    assert entry.body["operations"] == [{"label": "job", "operation": "process",
                                         "input": config}]
    status = await client.get_workflow(str(result.workflow_id))
    assert status is not None
    assert status.name == "cycle-1 job-7"


async def test_unknown_batch_type(client: MoodysClient) -> None:
    with pytest.raises(
        InvalidJobConfiguration, match="known: analysis, create_reinsurance_treaties, default"
    ):
        await client.submit({"batch_type": "teleport"}, workflow_name="X1",
                            request_id=uuid.uuid4())


async def test_same_key_never_makes_a_second_workflow(
    client: MoodysClient, fake: FakeMoodys
) -> None:
    key = uuid.uuid4()
    first = await client.submit(analysis_job(), workflow_name="AN_1", request_id=key)
    second = await client.submit(analysis_job(), workflow_name="AN_1", request_id=key)
    assert first.workflow_id == second.workflow_id
    assert len(fake.submissions("AN_1")) == 1
    assert [e.replay for e in fake.ledger if e.request_id == str(key)] == [False, True]
