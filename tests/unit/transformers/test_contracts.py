"""An override is judged by the rules that judged its workbook row: columns, references, the
portfolio's database, unknown keys; every job configuration a transformer makes passes."""

from __future__ import annotations

from typing import Any

import pytest

from irpd.excel import load_workbook
from irpd.samples import sample_path
from irpd.transformers import builtin_registry


@pytest.fixture(scope="module")
def workbook() -> dict[str, Any]:
    data = load_workbook(sample_path()).configuration_data
    assert data is not None
    return data


@pytest.mark.parametrize("batch_type", builtin_registry().names())
def test_every_generated_job_configuration_passes_its_contract(
    batch_type: str, workbook: dict[str, Any]
) -> None:
    registry = builtin_registry()
    for job in registry.transform(batch_type, workbook):
        assert registry.check(batch_type, job, workbook) == []


def test_each_bad_key_of_an_analysis_override_is_named(workbook: dict[str, Any]) -> None:
    registry = builtin_registry()
    jobs = registry.transform("analysis", workbook)
    job = jobs[0]
    other_database = next(j["database"] for j in jobs if j["database"] != job["database"])
    edited = {
        **job,
        "portfolio": "NO_SUCH",
        "currency": "EURO",
        "treaties": ["Unknown Treaty"],
        "analysis_profile": "dlm cbhu v23 usfl",
        "threshold": 0.9,
        "batch_type": "default",
    }
    edited.pop("analysis_name")
    problems = {p["key"]: p["message"] for p in registry.check("analysis", edited, workbook)}
    assert set(problems) == {
        "analysis_name",
        "analysis_profile",
        "batch_type",
        "currency",
        "portfolio",
        "threshold",
        "treaties",
    }
    assert problems["analysis_name"] == "is required"
    assert "did you mean 'DLM CBHU v23 USFL'?" in problems["analysis_profile"]
    assert problems["portfolio"] == "'NO_SUCH' is not listed in Portfolios"
    moved = {**job, "database": other_database}
    assert registry.check("analysis", moved, workbook) == [
        {
            "key": "portfolio",
            "message": f"the portfolio {job['portfolio']!r} belongs to {job['database']!r}, "
            f"not {other_database!r}",
        }
    ]


def test_generic_types_take_any_keys(workbook: dict[str, Any]) -> None:
    registry = builtin_registry()
    job = {"batch_type": "multi_job", "job_key": "k", "anything": {"goes": [1]}}
    assert registry.check("multi_job", job, workbook) == []
    assert registry.check("multi_job", {**job, "job_key": " "}, workbook) == [
        {"key": "job_key", "message": "must be a non-blank text"}
    ]
