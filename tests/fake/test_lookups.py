"""Reference data (catalogue) and name lookups, lenient and strict."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from irpd.moodys.fake import FakeMoodys

from .helpers import Api, frozen_settings

EDM = "RM_EDM_202401_Test"
SAMPLE_NAMES = {
    "model": ["DLM CBHU v23 USFL", "DLM Earthquake v23 USEQ", "HD Flood v23 USFL"],
    "output": ["Patched Portfolio Level Only (EP, ELT, Stats)"],
    "rates": ["RMS 2023 Stochastic Event Rates", "RMS 2023 Warm SST Conditioned"],
}


async def test_default_catalogue_covers_the_sample_workbook(api: Api) -> None:
    from irpd.samples import cycle_data

    header, *rows = cycle_data.REFERENCE_DATA
    for row in rows:
        for path, key, name in zip(
            (
                "/analysis-settings/modelprofiles",
                "/analysis-settings/outputprofiles",
                "/data-store/referencetables/eventratescheme",
            ),
            ("name", "name", "where"),
            row,
            strict=True,
        ):
            if name is None:
                continue
            value = f'name="{name}"' if key == "where" else str(name)
            body = await get(api, path, **{key: value})
            found = body if isinstance(body, list) else body["items"]
            assert found, (header, name)


@pytest.fixture
async def strict_api() -> AsyncIterator[Api]:
    async with (
        FakeMoodys.running(frozen_settings(strict_references=True)) as fake,
        aiohttp.ClientSession(fake.base_url, headers={"Authorization": fake.api_key}) as session,
    ):
        yield Api(fake, session)


async def get(api: Api, path: str, **params: str) -> Any:
    status, _, body = await api.call("GET", path, params=params)
    assert status == 200, body
    return body


async def test_model_profiles_by_name(api: Api) -> None:
    for name in SAMPLE_NAMES["model"]:
        body = await get(api, "/analysis-settings/modelprofiles", name=name)
        assert body["count"] == 1
        [item] = body["items"]
        assert item["name"] == name
        assert {"id", "perilCode", "modelRegionCode", "softwareVersionCode"} <= set(item)
        assert ("HD" in item["softwareVersionCode"]) == name.startswith("HD")
    assert await get(api, "/analysis-settings/modelprofiles", name="No Such Profile") == {
        "items": [],
        "count": 0,
    }
    assert (await get(api, "/analysis-settings/modelprofiles"))["count"] >= 3


async def test_output_profiles_are_a_bare_array(api: Api) -> None:
    [item] = await get(api, "/analysis-settings/outputprofiles", name=SAMPLE_NAMES["output"][0])
    assert item["name"] == SAMPLE_NAMES["output"][0]
    assert isinstance(item["id"], int)
    assert await get(api, "/analysis-settings/outputprofiles", name="nope") == []


async def test_event_rate_schemes_where_clause(api: Api) -> None:
    profile = (await get(api, "/analysis-settings/modelprofiles", name="DLM CBHU v23 USFL"))[
        "items"
    ][0]
    for name in SAMPLE_NAMES["rates"]:
        where = (
            f'isActive=True AND name="{name}" AND perilCode="{profile["perilCode"]}" '
            f'AND modelRegionCode="{profile["modelRegionCode"]}"'
        )
        body = await get(api, "/data-store/referencetables/eventratescheme", where=where)
        assert body["count"] == 1
        assert body["items"][0]["name"] == name
        assert isinstance(body["items"][0]["eventRateSchemeId"], int)
    body = await get(api, "/data-store/referencetables/eventratescheme", where='name="nope"')
    assert body == {"items": [], "count": 0}
    status, _, error = await api.call(
        "GET", "/data-store/referencetables/eventratescheme", params={"where": 'name = "unclosed'}
    )
    assert status == 400
    assert error["code"] == "REFDATA-001"


async def test_catalogue_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.json"
    path.write_text(
        json.dumps(
            {
                "modelProfiles": [
                    {
                        "id": 1,
                        "name": "Only Profile",
                        "perilCode": "WS",
                        "modelRegionCode": "NAWS",
                        "softwareVersionCode": "DLM-1",
                    }
                ],
                "treaties": [{"datasource": EDM, "name": "Treaty A", "id": 77}],
            }
        )
    )
    settings = frozen_settings(catalogue_path=str(path), strict_references=True)
    async with (
        FakeMoodys.running(settings) as fake,
        aiohttp.ClientSession(fake.base_url, headers={"Authorization": fake.api_key}) as session,
    ):
        api = Api(fake, session)
        assert (await get(api, "/analysis-settings/modelprofiles"))["count"] == 1
        assert await get(
            api, "/analysis-settings/outputprofiles", name=SAMPLE_NAMES["output"][0]
        )  # lists not given keep the default
        treaties = await get(api, "/riskmodeler/v1/treaties", datasource=EDM, q='name="Treaty A"')
        assert treaties == {"searchTotalMatch": 1, "searchItems": [{"id": 77, "name": "Treaty A"}]}


async def test_lenient_lookups_give_stable_synthetic_ids(api: Api) -> None:
    one = await get(api, "/riskmodeler/v2/portfolios", datasource=EDM, q='name="PORT_X"')
    two = await get(api, "/riskmodeler/v2/portfolios", datasource=EDM, q='name="PORT_X"')
    assert one == two
    assert one["searchTotalMatch"] == 1
    assert one["searchItems"][0]["name"] == "PORT_X"
    other = await get(api, "/riskmodeler/v2/portfolios", datasource=EDM, q='name="PORT_Y"')
    assert other["searchItems"][0]["id"] != one["searchItems"][0]["id"]
    treaty = await get(api, "/riskmodeler/v1/treaties", datasource=EDM, q='name="Cat XL"')
    assert treaty["searchItems"][0]["name"] == "Cat XL"
    analysis = await get(api, "/riskmodeler/v2/analyses", q='name="NEVER_RAN"')
    assert analysis["searchItems"][0]["type"] == "ANALYSIS"


async def test_strict_lookups_find_only_real_entries(strict_api: Api) -> None:
    api = strict_api
    for path, params in (
        ("/riskmodeler/v2/portfolios", {"datasource": EDM}),
        ("/riskmodeler/v1/treaties", {"datasource": EDM}),
        ("/riskmodeler/v2/analyses", {}),
    ):
        body = await get(api, path, q='name="UNKNOWN"', **params)
        assert body == {"searchTotalMatch": 0, "searchItems": []}


async def test_created_portfolios_are_real(strict_api: Api) -> None:
    api = strict_api
    _, headers, _ = await api.call(
        "POST",
        "/riskmodeler/v2/portfolios",
        params={"datasource": EDM},
        body={"name": "PORT_REAL", "number": "7"},
    )
    pid = int(headers["Location"].rsplit("/", 1)[1])
    body = await get(api, "/riskmodeler/v2/portfolios", datasource=EDM, q='name="PORT_REAL"')
    assert body["searchItems"][0]["id"] == pid
    assert body["searchItems"][0]["number"] == "7"
    assert (
        await get(api, "/riskmodeler/v2/portfolios", datasource="OTHER_EDM", q='name="PORT_REAL"')
    )["searchTotalMatch"] == 0
    assert (await get(api, f"/riskmodeler/v2/portfolios/{pid}"))["name"] == "PORT_REAL"
    status, _, error = await api.call(
        "GET", "/riskmodeler/v2/portfolios", params={"q": 'name="PORT_REAL"'}
    )
    assert status == 400
    assert error["code"] == "DS-003"


async def test_finished_analyses_and_groups_are_real(strict_api: Api) -> None:
    api = strict_api
    await api.submit_analysis("ANALYSIS_REAL")
    status, _, _ = await api.call(
        "POST", "/riskmodeler/v2/analysis-groups", body={"name": "GROUP_REAL", "analysisIds": [1]}
    )
    assert status == 201
    assert (await get(api, "/riskmodeler/v2/analyses", q='name="ANALYSIS_REAL"'))[
        "searchTotalMatch"
    ] == 0  # still running
    api.fake.advance(100_000)
    analysis = await get(api, "/riskmodeler/v2/analyses", q='name="ANALYSIS_REAL"')
    group = await get(api, "/riskmodeler/v2/analyses", q='name="GROUP_REAL"')
    assert analysis["searchItems"][0]["type"] == "ANALYSIS"
    assert group["searchItems"][0]["type"] == "GROUP"
    assert analysis["searchItems"][0]["id"] != group["searchItems"][0]["id"]


async def test_datasource_search_lists_finished_edms(api: Api) -> None:
    await api.call(
        "POST",
        "/riskmodeler/v2/datasources",
        params={"datasourcename": "RM_EDM_202401_Made", "operation": "CREATE"},
    )
    query = 'datasourceName="RM_EDM_202401_Made"'
    assert (await get(api, "/riskmodeler/v2/datasources", q=query))["searchTotalMatch"] == 0
    api.fake.advance(100_000)
    body = await get(api, "/riskmodeler/v2/datasources", q=query)
    assert body["searchItems"][0]["datasourceName"] == "RM_EDM_202401_Made"
