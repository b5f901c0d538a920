"""What each kind of job needs at Moody's before it is sent (pre-flight, pure)."""

from __future__ import annotations

from irpd.moodys.preflight import Reference, references_of


def test_an_analysis_needs_its_portfolio_profiles_scheme_and_treaties() -> None:
    config = {
        "batch_type": "analysis",
        "database": "EDM_A",
        "portfolio": "P1",
        "analysis_profile": "DLM USEQ",
        "output_profile": "Default",
        "event_rate": "RMS 2023",
        "treaties": ["T1", None, " ", "T2"],
    }
    assert references_of(config) == [
        Reference("portfolio", "P1", "EDM_A"),
        Reference("model profile", "DLM USEQ"),
        Reference("output profile", "Default"),
        Reference("event rate scheme", "RMS 2023"),
        Reference("treaty", "T1", "EDM_A"),
        Reference("treaty", "T2", "EDM_A"),
    ]


def test_imports_and_geohaz_need_the_portfolio_groupings_and_exports_their_results() -> None:
    for batch_type in ("mri_import", "geohaz"):
        config = {"batch_type": batch_type, "database": "E", "portfolio": "P"}
        assert references_of(config) == [Reference("portfolio", "P", "E")]
    grouping = {"batch_type": "grouping", "items": ["A1", "A2"]}
    assert references_of(grouping) == [
        Reference("analysis or group", "A1"),
        Reference("analysis or group", "A2"),
    ]
    export = {"batch_type": "export_to_rdm", "name": "G1"}
    assert references_of(export) == [Reference("analysis or group", "G1")]


def test_creations_and_generic_jobs_need_nothing_that_must_exist() -> None:
    for batch_type in ("edm_creation", "portfolio_creation", "multi_job", "default", None):
        assert references_of({"batch_type": batch_type, "database": "E", "portfolio": "P"}) == []


def test_a_missing_reference_is_described_with_its_edm() -> None:
    assert Reference("treaty", "T1", "EDM_A").describe() == (
        "treaty 'T1' in EDM 'EDM_A' not found at Moody's"
    )
    assert Reference("model profile", "X").describe() == "model profile 'X' not found at Moody's"
