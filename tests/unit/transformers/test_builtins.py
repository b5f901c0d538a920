"""The built-in batch types on the sample cycle workbook."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from irpd.errors import BatchError
from irpd.excel import load_workbook
from irpd.excel import names as n
from irpd.samples import GENERIC_JOBS_FILE, sample_path
from irpd.transformers import builtin_registry

CYCLE: dict[str, Any] = load_workbook(sample_path()).configuration_data or {}
GENERIC: dict[str, Any] = load_workbook(sample_path(GENERIC_JOBS_FILE)).configuration_data or {}
REGISTRY = builtin_registry()

EXPECTED_COUNTS = {
    "default": 1,
    "multi_job": 1,
    "edm_creation": 2,
    "portfolio_creation": 2,
    "mri_import": 2,
    "create_reinsurance_treaties": 7,
    "edm_db_upgrade": 2,
    "geohaz": 2,
    "analysis": 10,
    "grouping": 3,
    "grouping_rollup": 1,
    "export_to_rdm": 14,
}


def _jobs(batch_type: str, data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return REGISTRY.transform(batch_type, CYCLE if data is None else data)


def _without_metadata(job: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in job.items() if key != "metadata"}


def test_the_builtins_are_registered() -> None:
    assert REGISTRY.names() == sorted(EXPECTED_COUNTS)
    assert all(REGISTRY.describe().values())


@pytest.mark.parametrize("batch_type", sorted(EXPECTED_COUNTS))
def test_counts_keys_and_json(batch_type: str) -> None:
    jobs = _jobs(batch_type)

    assert len(jobs) == EXPECTED_COUNTS[batch_type]
    assert len({job["job_key"] for job in jobs}) == len(jobs)
    assert all(job["batch_type"] == batch_type for job in jobs)
    json.dumps(jobs, allow_nan=False)


@pytest.mark.parametrize("batch_type", sorted(set(EXPECTED_COUNTS) - {"default", "multi_job"}))
def test_cycle_jobs_carry_their_own_metadata(batch_type: str) -> None:
    jobs = _jobs(batch_type)

    assert all(job["metadata"] == CYCLE[n.METADATA] for job in jobs)
    jobs[0]["metadata"][n.CYCLE_TYPE] = "changed"
    assert all(job["metadata"][n.CYCLE_TYPE] == "Quarterly" for job in jobs[1:])
    assert CYCLE[n.METADATA][n.CYCLE_TYPE] == "Quarterly"


@pytest.mark.parametrize("batch_type", sorted(set(EXPECTED_COUNTS) - {"default", "multi_job"}))
def test_cycle_types_refuse_a_generic_configuration(batch_type: str) -> None:
    with pytest.raises(BatchError, match="needs the 'Metadata' sheet of a cycle workbook"):
        _jobs(batch_type, GENERIC)


def test_a_missing_sheet_is_named() -> None:
    data = copy.deepcopy(CYCLE)
    del data[n.ANALYSES]

    with pytest.raises(BatchError, match="needs the 'Analysis Table' sheet"):
        _jobs("analysis", data)


def test_edm_creation() -> None:
    assert [_without_metadata(job) for job in _jobs("edm_creation")] == [
        {"batch_type": "edm_creation", "job_key": "RM_EDM_202503_USFL",
         "database": "RM_EDM_202503_USFL", "store_in_data_bridge": "Y"},
        {"batch_type": "edm_creation", "job_key": "RM_EDM_202503_USEQ",
         "database": "RM_EDM_202503_USEQ", "store_in_data_bridge": "N"},
    ]


def test_portfolio_creation_only_for_base_portfolios() -> None:
    assert [_without_metadata(job) for job in _jobs("portfolio_creation")] == [
        {"batch_type": "portfolio_creation", "job_key": "USFL_Base",
         "database": "RM_EDM_202503_USFL", "portfolio": "USFL_Base", "import_file": "USFL_Base"},
        {"batch_type": "portfolio_creation", "job_key": "USEQ_Base",
         "database": "RM_EDM_202503_USEQ", "portfolio": "USEQ_Base", "import_file": "USEQ_Base"},
    ]


def test_mri_import_derives_the_file_names() -> None:
    job = _jobs("mri_import")[0]

    assert job["accounts_file"] == "USFL_Base_20250331_account.csv"
    assert job["locations_file"] == "USFL_Base_20250331_location.csv"


def test_mri_import_drops_a_file_extension() -> None:
    data = copy.deepcopy(CYCLE)
    data[n.PORTFOLIOS][0][n.IMPORT_FILE] = "usfl_base.CSV"

    assert _jobs("mri_import", data)[0]["accounts_file"] == "usfl_base_20250331_account.csv"


def test_geohaz_versions_and_thresholds() -> None:
    usfl, useq = _jobs("geohaz")

    assert (usfl["geocode_version"], usfl["hazard_version"]) == ("22.0", "22.0")
    assert usfl["thresholds"][0] == {
        "geocode_level": "Coordinate", "percent_of_grand_total": 78.5, "threshold_percent": 75
    }
    assert len(usfl["thresholds"]) == 3
    assert len(useq["thresholds"]) == 2


@pytest.mark.parametrize(("version", "expected"), [("22", "22.0"), ("23.1.4", "23.1")])
def test_geocode_version_is_major_minor(version: str, expected: str) -> None:
    data = copy.deepcopy(CYCLE)
    data[n.METADATA][n.GEOCODE_VERSION] = version

    assert _jobs("geohaz", data)[0]["geocode_version"] == expected


def test_analysis_rows() -> None:
    jobs = _jobs("analysis")

    assert _without_metadata(jobs[9]) == {
        "batch_type": "analysis",
        "job_key": "USEQ_Commercial_DLM_Net",
        "database": "RM_EDM_202503_USEQ",
        "portfolio": "USEQ_Commercial",
        "analysis_name": "USEQ_Commercial_DLM_Net",
        "analysis_profile": "DLM EQ v23 USEQ",
        "output_profile": "Patched Portfolio Level Only (EP, ELT, Stats)",
        "event_rate": "RMS 2023 Stochastic Event Rates",
        "treaties": ["USEQ_Cat_XL_L1_2025", "USEQ_Cat_XL_L2_2025", "US_Corporate_Cat_2025"],
        "tags": ["USEQ", "Commercial", "Net"],
        "currency": "USD",
    }
    assert jobs[3]["event_rate"] is None
    assert jobs[0]["treaties"] == []


def test_analysis_currency_comes_from_the_first_treaty_then_metadata() -> None:
    data = copy.deepcopy(CYCLE)
    data[n.TREATIES][1][n.CURRENCY] = "CAD"  # USFL_Residential_QS_2025
    data[n.METADATA][n.CURRENCY_KEY] = "gbp"

    jobs = _jobs("analysis", data)

    assert jobs[2]["currency"] == "CAD"
    assert jobs[0]["currency"] == "GBP"


def test_grouping_and_rollup() -> None:
    groups = _jobs("grouping")
    rollups = _jobs("grouping_rollup")

    assert [job["job_key"] for job in groups] == [
        "group:USFL_DLM_Group", "group:USFL_HD_Group", "group:USEQ_DLM_Group"
    ]
    assert groups[1]["items"] == ["USFL_Base_HD", "USFL_Commercial_HD"]
    assert groups[1]["child_groups"] == []
    assert _without_metadata(rollups[0]) == {
        "batch_type": "grouping_rollup",
        "job_key": "group:US_All_Perils",
        "group_name": "US_All_Perils",
        "items": ["USFL_DLM_Group", "USFL_HD_Group", "USEQ_DLM_Group"],
        "child_groups": ["USFL_DLM_Group", "USFL_HD_Group", "USEQ_DLM_Group"],
        "level": 2,
        "currency": "USD",
    }


def test_nested_rollups_come_after_their_children() -> None:
    data = copy.deepcopy(CYCLE)
    data[n.GROUPINGS].insert(0, {n.GROUP_NAME: "World", n.GROUP_ITEMS: ["US_All_Perils"]})

    rollups = _jobs("grouping_rollup", data)

    assert [(job["group_name"], job["level"]) for job in rollups] == [
        ("US_All_Perils", 2), ("World", 3)
    ]


def test_circular_groups_are_refused() -> None:
    data = copy.deepcopy(CYCLE)
    data[n.GROUPINGS][0][n.GROUP_ITEMS].append("US_All_Perils")

    with pytest.raises(BatchError, match="Groups contain each other"):
        _jobs("grouping", data)


def test_export_to_rdm_seeds_with_the_first() -> None:
    jobs = _jobs("export_to_rdm")

    assert [job["seed"] for job in jobs] == [True] + [False] * 13
    assert {job["rdm_name"] for job in jobs} == {"RM_RDM_202503_US"}
    assert _without_metadata(jobs[0]) == {
        "batch_type": "export_to_rdm", "job_key": "USFL_Base_DLM", "rdm_name": "RM_RDM_202503_US",
        "name": "USFL_Base_DLM", "item_type": "analysis", "seed": True,
        "database": "RM_EDM_202503_USFL",
    }
    assert _without_metadata(jobs[-1]) == {
        "batch_type": "export_to_rdm", "job_key": "group:US_All_Perils",
        "rdm_name": "RM_RDM_202503_US", "name": "US_All_Perils", "item_type": "group",
        "seed": False, "database": "RM_EDM_202503_USFL",
    }


def test_default_is_a_copy_of_everything() -> None:
    (job,) = _jobs("default")

    assert job == {**CYCLE, "batch_type": "default", "job_key": "default"}
    job[n.METADATA][n.CYCLE_TYPE] = "changed"
    assert CYCLE[n.METADATA][n.CYCLE_TYPE] == "Quarterly"


def test_multi_job_on_the_generic_jobs_sheet() -> None:
    jobs = _jobs("multi_job", GENERIC)

    assert [job["job_key"] for job in jobs] == [
        "refresh-usfl", "refresh-useq", "validate-usfl", "validate-useq", "archive-2024q4"
    ]
    assert jobs[0] == {**GENERIC["jobs"][0], "batch_type": "multi_job"}


def test_multi_job_numbers_items_without_a_key() -> None:
    jobs = _jobs("multi_job", {"Jobs": [{"a": 1}, {"a": 2, "job_key": ""}, "plain"]})

    assert jobs == [
        {"a": 1, "job_key": "job-1", "batch_type": "multi_job"},
        {"a": 2, "job_key": "job-2", "batch_type": "multi_job"},
        {"value": "plain", "job_key": "job-3", "batch_type": "multi_job"},
    ]
