"""Workflow names: natural names where Moody's shows them, always within the jobName rule."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from irpd.engine.workflow_names import fit, workflow_name

PATTERN = re.compile(r"^\w((?!--)[\w\s:-])*\w$", re.ASCII)


def test_analyses_groups_and_edms_keep_their_natural_names() -> None:
    assert workflow_name(7, {"batch_type": "analysis", "analysis_name": "USFL_Base_DLM"}) == (
        "USFL_Base_DLM"
    )
    assert workflow_name(8, {"batch_type": "grouping", "group_name": "US All"}) == "US All"
    assert workflow_name(9, {"batch_type": "edm_creation", "database": "RM_EDM_202503_X"}) == (
        "RM_EDM_202503_X"
    )


def test_other_jobs_are_named_by_id_and_key() -> None:
    assert workflow_name(12, {"batch_type": "mri_import", "job_key": "PF 1"}) == "irpd-12-PF 1"
    assert workflow_name(13, {"batch_type": "multi_job"}) == "irpd-13-multi_job"
    assert workflow_name(14, {}) == "irpd-14"


def test_names_are_fitted_to_moodys_rule() -> None:
    name = workflow_name(
        1, {"batch_type": "analysis", "analysis_name": "  EQ -- (v2)! " + "x" * 90}
    )
    assert len(name) <= 64
    assert PATTERN.match(name)


@given(st.integers(min_value=1, max_value=2**62), st.text(max_size=120))
def test_every_name_matches_the_rule(job_id: int, key: str) -> None:
    for batch_type in ("analysis", "multi_job"):
        config = {"batch_type": batch_type, "analysis_name": key, "job_key": key}
        name = workflow_name(job_id, config)
        assert len(name) <= 64
        assert PATTERN.match(name), name


def test_fit_may_empty_a_name_without_word_characters() -> None:
    assert fit(" -- ") == ""
