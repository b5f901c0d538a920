"""The EDM upkeep batch types on the sample workbook and on rows that break their rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from irpd.errors import BatchError
from irpd.excel import load_workbook
from irpd.excel import names as n
from irpd.samples import sample_path
from irpd.transformers import builtin_registry

CYCLE: dict[str, Any] = load_workbook(sample_path()).configuration_data or {}
REGISTRY = builtin_registry()


def test_one_treaty_job_per_unique_treaty_and_edm_named_in_the_analysis_table() -> None:
    jobs = REGISTRY.transform("create_reinsurance_treaties", CYCLE)
    pairs = [(j["treaty_name"], j["database"]) for j in jobs]
    named = {
        (treaty, str(row[n.DATABASE]))
        for row in CYCLE[n.ANALYSES]
        for column in n.TREATY_COLUMNS
        if (treaty := row.get(column))
    }
    assert len(pairs) == len(set(pairs)) == len(named)
    assert set(pairs) == named
    first = jobs[0]
    treaty = next(r for r in CYCLE[n.TREATIES] if r[n.TREATY_NAME] == first["treaty_name"])
    assert first["treaty_number"] == treaty[n.TREATY_NUMBER]
    assert first["treaty_type"] == treaty[n.TREATY_TYPE]
    assert first["attachment_level"] == treaty[n.EXPOSURE_LEVEL]
    assert first["job_key"] == f"{first['database']}/{first['treaty_name']}"


def test_a_treaty_missing_from_the_treaties_sheet_is_refused() -> None:
    data = copy.deepcopy(CYCLE)
    data[n.ANALYSES][0][n.TREATY_COLUMNS[0]] = "NOT_A_TREATY"
    with pytest.raises(BatchError, match="names treaty 'NOT_A_TREATY'"):
        REGISTRY.transform("create_reinsurance_treaties", data)


def test_no_treaty_named_means_no_work() -> None:
    data = copy.deepcopy(CYCLE)
    for row in data[n.ANALYSES]:
        for column in n.TREATY_COLUMNS:
            row[column] = None
    assert REGISTRY.transform("create_reinsurance_treaties", data) == []


def test_one_upgrade_per_edm_to_the_workbooks_data_version() -> None:
    jobs = REGISTRY.transform("edm_db_upgrade", CYCLE)
    assert [j["database"] for j in jobs] == [str(r[n.DATABASE]) for r in CYCLE[n.DATABASES]]
    assert {j["edm_data_version"] for j in jobs} == {str(CYCLE[n.METADATA][n.EDM_DATA_VERSION])}
