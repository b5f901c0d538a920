"""``GET /riskmodeler/v1/workflows``: ids= batches, record offset paging, filters, 400 codes."""

from __future__ import annotations

import math

import pytest

from irpd.moodys.fake.clock import iso

from .helpers import Api


def seed_workflows(api: Api, count: int, prefix: str = "ANALYSIS_L") -> list[str]:
    """Create workflows in-process (fast) the same way the route does."""
    simulation = api.fake.context.simulation
    return [
        str(
            simulation.submit(
                workflow_type="ANALYTICS_JOB",
                name=f"{prefix}{i}",
                body_text='{"edm": "E"}',
                summary={},
            ).id
        )
        for i in range(count)
    ]


async def test_ids_lookup_pages_by_record_offset(api: Api) -> None:
    ids = seed_workflows(api, 25)
    limit = 10
    collected: list[int] = []
    pages = 0
    offset = 0
    while True:
        page = await api.lookup(ids, limit=str(limit), offset=str(offset))
        assert page["totalMatchCount"] == 25
        collected.extend(w["id"] for w in page["workflows"])
        pages += 1
        offset += limit
        if len(collected) >= page["totalMatchCount"]:
            break
    assert pages == math.ceil(25 / limit)
    assert sorted(map(str, collected)) == sorted(ids)
    assert collected == sorted(collected, reverse=True)  # submitTime DESC, newest first


async def test_ids_lookup_ignores_unknown_ids_and_duplicates(api: Api) -> None:
    ids = seed_workflows(api, 3)
    page = await api.lookup([*ids, ids[0], "424242"])
    assert page["totalMatchCount"] == 3
    # spaces and empty parts take the careful parse; the same records come back, once each
    page = await api.lookup([f" {ids[0]} ", "", ids[1], f"{ids[0]}", " "])
    assert sorted(str(w["id"]) for w in page["workflows"]) == sorted(ids[:2])


async def test_default_limit_is_100_and_max_limit_1000(api: Api) -> None:
    ids = seed_workflows(api, 105)
    page = await api.lookup(ids)
    assert page["totalMatchCount"] == 105
    assert len(page["workflows"]) == 100
    page = await api.lookup(ids, limit="1000")
    assert len(page["workflows"]) == 105
    for bad in ({"limit": "1001"}, {"limit": "0"}, {"offset": "-1"}, {"limit": "x"}):
        status, _, error = await api.call("GET", "/riskmodeler/v1/workflows", params=bad)
        assert status == 400
        assert error["code"] == "WORKFLOW-507"


async def test_thousand_ids_fit_in_one_request(api: Api) -> None:
    ids = seed_workflows(api, 1000)
    page = await api.lookup(ids, limit="1000")
    assert page["totalMatchCount"] == 1000
    assert len(page["workflows"]) == 1000


async def test_workflowname_is_an_exact_match(api: Api) -> None:
    seed_workflows(api, 12)  # ANALYSIS_L1 and ANALYSIS_L10, ANALYSIS_L11
    again = await api.submit_analysis("ANALYSIS_L1")
    status, _, page = await api.call(
        "GET", "/riskmodeler/v1/workflows", params={"workflowname": "ANALYSIS_L1"}
    )
    assert status == 200
    assert page["totalMatchCount"] == 2
    assert {w["name"] for w in page["workflows"]} == {"ANALYSIS_L1"}
    assert page["workflows"][0]["id"] == int(again)


async def test_status_filter_accepts_a_comma_list(api: Api) -> None:
    ids = seed_workflows(api, 4)
    api.fake.advance(100_000)
    late = seed_workflows(api, 2, "ANALYSIS_LATE")
    finished = await api.lookup(ids + late, status="FINISHED")
    assert finished["totalMatchCount"] == 4
    mixed = await api.lookup(ids + late, status="queued,FINISHED")
    assert mixed["totalMatchCount"] == 6
    status, _, error = await api.call("GET", "/riskmodeler/v1/workflows", params={"status": "DONE"})
    assert status == 400
    assert error["code"] == "WORKFLOW-509"


async def test_type_and_submission_window_filters(api: Api) -> None:
    ids = seed_workflows(api, 2)
    start = api.fake.now()
    api.fake.advance(3600)
    later = seed_workflows(api, 1, "ANALYSIS_NEXT")
    page = await api.lookup(ids + later, workflowtype="ANALYTICS_JOB", **{"from": iso(start + 60)})
    assert [str(w["id"]) for w in page["workflows"]] == later
    page = await api.lookup(ids + later, to=iso(start + 60))
    assert page["totalMatchCount"] == 2
    page = await api.lookup(ids + later, workflowtype="CREATE_EDM")
    assert page["totalMatchCount"] == 0


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"workflowtype": "NOT_A_TYPE"}, "WORKFLOW-510"),
        ({"from": "yesterday"}, "WORKFLOW-508"),
        ({"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"}, "WORKFLOW-513"),
        ({"sortby": "colour"}, "WORKFLOW-512"),
        ({"sortorder": "SIDEWAYS"}, "WORKFLOW-512"),
        ({"ids": "1,two"}, "WORKFLOW-511"),
        # digits str.isdigit() accepts and int() refuses: a 400, not a 500
        ({"ids": "1,\u00b2"}, "WORKFLOW-511"),
        ({"ids": "\u00b2"}, "WORKFLOW-511"),
    ],
)
async def test_bad_list_parameters(api: Api, params: dict[str, str], code: str) -> None:
    status, _, error = await api.call("GET", "/riskmodeler/v1/workflows", params=params)
    assert status == 400
    assert error["code"] == code


async def test_sorting(api: Api) -> None:
    ids = seed_workflows(api, 3)
    page = await api.lookup(ids, sortby="id", sortorder="ASC")
    assert [str(w["id"]) for w in page["workflows"]] == ids
    page = await api.lookup(ids, sortby="name", sortorder="DESC")
    assert [w["name"] for w in page["workflows"]] == ["ANALYSIS_L2", "ANALYSIS_L1", "ANALYSIS_L0"]


async def test_username_filter_matches_the_tenant_user(api: Api) -> None:
    ids = seed_workflows(api, 2)
    assert (await api.lookup(ids, username=api.fake.settings.user_name))["totalMatchCount"] == 2
    assert (await api.lookup(ids, username="someone-else"))["totalMatchCount"] == 0
