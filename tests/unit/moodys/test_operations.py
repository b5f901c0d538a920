"""Per-batch-type request builders: job configuration + resolved ids → request."""

from __future__ import annotations

from typing import Any

import pytest

from irpd.moodys import operations as ops
from irpd.moodys.errors import InvalidJobConfiguration

METADATA = {
    "Current Date Value": "2025-03-31",
    "Geocode Version": "23.1.0",
    "Export RDM Name": "RM_RDM_202503",
}


def config(batch_type: str, **values: Any) -> dict[str, Any]:
    return {"batch_type": batch_type, "metadata": METADATA, "job_key": "k", **values}


def test_create_edm() -> None:
    spec = ops.create_edm(
        config("edm_creation", database="RM_EDM_202503_A", store_in_data_bridge=False)
    )
    assert (spec.method, spec.path) == ("POST", "/riskmodeler/v2/datasources")
    assert spec.params == {"datasourcename": "RM_EDM_202503_A", "operation": "CREATE"}


def test_create_portfolio() -> None:
    spec = ops.create_portfolio(
        config("portfolio_creation", database="E", portfolio="P1", import_file="P1_file")
    )
    assert (spec.method, spec.path, spec.params) == (
        "POST",
        "/riskmodeler/v2/portfolios",
        {"datasource": "E"},
    )
    assert spec.body["name"] == "P1"
    assert spec.body["number"] == "P1"
    assert "P1_file" in spec.body["description"]


def test_name_searches_quote_the_name() -> None:
    spec = ops.portfolio_search("E", 'A "quoted" name')
    assert spec.params == {"datasource": "E", "q": 'name="A \\"quoted\\" name"'}
    assert ops.treaty_search("E", "T1").path == "/riskmodeler/v1/treaties"
    assert ops.result_search("AN1").params == {"q": 'name="AN1"'}


def test_storage_and_mri_import() -> None:
    assert ops.create_storage_bucket().path == "/riskmodeler/v1/storage"
    file_spec = ops.register_storage_file(
        "12", file_name="acc.txt", file_type="account", file_size=10
    )
    assert file_spec.path == "/riskmodeler/v1/storage/12/path"
    assert file_spec.body == {
        "fileName": "acc.txt",
        "fileType": "account",
        "fileSize": 10,
        "fileInputType": "MRI",
    }
    spec = ops.mri_import(
        config("mri_import", database="E", portfolio="P"),
        portfolio_id=5,
        bucket_id="12",
        accounts_file_id="31",
        locations_file_id="x-32",
    )
    assert spec.path == "/riskmodeler/v1/imports"
    assert spec.body["bucketId"] == 12
    assert spec.body["locationsFileId"] == "x-32"
    assert spec.body["dataSourceName"] == "E"
    assert spec.body["portfolioId"] == 5
    assert spec.body["delimiter"] == "TAB"
    assert spec.body["importType"] == "MRI"


def test_geohaz_layers() -> None:
    spec = ops.geohaz(
        config(
            "geohaz", database="E", portfolio="P", geocode_version="23.1", hazard_version="23.0"
        ),
        portfolio_id=9,
    )
    assert spec.path == "/riskmodeler/v2/portfolios/9/geohaz"
    assert spec.params == {"datasource": "E"}
    assert [(layer["type"], layer["version"]) for layer in spec.body] == [
        ("geocode", "23.1"),
        ("hazard", "23.0"),
    ]
    custom = ops.geohaz(
        config(
            "geohaz",
            database="E",
            geocode_version="1",
            hazard_version="2",
            hazard_layers=["earthquake", "windstorm"],
        ),
        portfolio_id=9,
    )
    assert [layer["name"] for layer in custom.body] == ["geocode", "earthquake", "windstorm"]


IDS = ops.AnalysisIds(
    portfolio_id=3,
    model_profile_id=11,
    output_profile_id=12,
    event_rate_scheme_id=13,
    treaty_ids=(21, 22),
)


def test_analysis_body() -> None:
    spec = ops.analysis(config("analysis", database="E", currency="usd"), job_name="AN_1", ids=IDS)
    assert spec.path == "/riskmodeler/v2/portfolios/3/process"
    body = spec.body
    assert body["jobName"] == "AN_1"
    assert body["edm"] == "E"
    assert (body["id"], body["modelProfileId"], body["outputProfileId"]) == (3, 11, 12)
    assert body["eventRateSchemeId"] == 13
    assert body["treaties"] == [21, 22]
    assert body["currency"] == {
        "code": "USD",
        "scheme": "RMS",
        "vintage": "RL25",
        "asOfDate": "2025-03-31",
    }


def test_analysis_without_event_rate_omits_it() -> None:
    ids = ops.AnalysisIds(3, 11, 12, None)
    assert (
        "eventRateSchemeId"
        not in ops.analysis(config("analysis", database="E"), job_name="AN", ids=ids).body
    )


@pytest.mark.parametrize("name", ["", "A", "-bad", "bad-", "a--b", "x" * 65, "semi;colon"])
def test_invalid_job_names(name: str) -> None:
    with pytest.raises(InvalidJobConfiguration):
        ops.check_job_name(name)


@pytest.mark.parametrize("name", ["AB", "AN_1", "cycle-12 step:3", "x" * 64])
def test_valid_job_names(name: str) -> None:
    assert ops.check_job_name(name) == name


def test_currency_variants() -> None:
    explicit = {"code": "EUR", "scheme": "ECB", "vintage": "V1", "asOfDate": "2024-12-31"}
    assert ops.analysis_currency({"currency": explicit}) == explicit
    assert (
        ops.analysis_currency({"metadata": {"Current Date Value": "202412"}})["asOfDate"]
        == "2024-12-01"
    )
    assert ops.analysis_currency({})["asOfDate"] == "2025-01-01"
    stamp = {"metadata": {"Current Date Value": "2024-11-30 00:00:00"}}
    assert ops.analysis_currency(stamp)["asOfDate"] == "2024-11-30"


def test_grouping_and_export() -> None:
    spec = ops.grouping(
        config("grouping", group_name="GRP_1", items=["A", "B"]), analysis_ids=[1, 2]
    )
    assert (spec.path, spec.body["name"], spec.body["analysisIds"]) == (
        "/riskmodeler/v2/analysis-groups",
        "GRP_1",
        [1, 2],
    )
    seed = ops.export_to_rdm(
        config("export_to_rdm", rdm_name="RDM", name="A", seed=True, database="E"), analysis_ids=[7]
    )
    assert seed.path == "/riskmodeler/v2/exports"
    assert seed.body["createnew"] is True
    assert seed.body["rdmName"] == "RDM"
    follower = ops.export_to_rdm(
        config("export_to_rdm", rdm_name="RDM", name="B", seed=False), analysis_ids=[8]
    )
    assert follower.body["createnew"] is False
    with pytest.raises(InvalidJobConfiguration, match="seed"):
        ops.export_to_rdm(config("export_to_rdm", rdm_name="RDM", name="B"), analysis_ids=[8])


def test_generic_workflow() -> None:
    job = config("multi_job", anything={"nested": [1, 2]})
    spec = ops.generic_workflow(job, workflow_name="cycle-1-job-2")
    assert (spec.method, spec.path) == ("POST", "/riskmodeler/v1/workflows")
    assert spec.body == {
        "name": "cycle-1-job-2",
        "type": "PortfolioWorkflow",
        "operations": [{"label": "job", "operation": "process", "input": job}],
    }


def test_missing_and_mistyped_values_name_the_key() -> None:
    with pytest.raises(InvalidJobConfiguration, match="'database'"):
        ops.create_edm({"batch_type": "edm_creation"})
    with pytest.raises(InvalidJobConfiguration, match="'database' is blank"):
        ops.create_edm({"database": "  "})
    with pytest.raises(InvalidJobConfiguration, match="'treaties' must be a list"):
        ops.names({"treaties": "T1"}, "treaties")
    assert ops.names({"treaties": ["T1", None, " ", "T2 "]}, "treaties") == ["T1", "T2"]
    assert ops.text({"n": 12}, "n") == "12"
