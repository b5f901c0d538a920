"""The registry: registration, the unknown-type message, output checks, entry points."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from irpd.errors import BatchError
from irpd.transformers import TransformerRegistry, builtin_registry, load_entry_points


def test_unknown_batch_type_lists_the_registered_ones() -> None:
    registry = builtin_registry()

    with pytest.raises(BatchError) as caught:
        registry.transform("portfolio_analysis", {})

    assert str(caught.value) == (
        "Unknown batch_type 'portfolio_analysis'. Registered types: ['analysis', "
        "'create_reinsurance_treaties', 'default', 'edm_creation', 'edm_db_upgrade', "
        "'export_to_rdm', 'geohaz', 'grouping', 'grouping_rollup', 'mri_import', 'multi_job', "
        "'portfolio_creation']"
    )


def test_the_spec_example_message() -> None:
    registry = TransformerRegistry()
    registry.add("multi_job", lambda data: [])
    registry.add("default", lambda data: [])

    with pytest.raises(BatchError, match=r"^Unknown batch_type 'unknown_type'\. Registered "
                                         r"types: \['default', 'multi_job'\]$"):
        registry.transform("unknown_type", {})


def test_each_builtin_registry_is_fresh() -> None:
    first = builtin_registry()

    @first.register("custom")
    def custom(data: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Two jobs from nothing."""
        return [{"job_key": "a"}, {"n": 2}]

    assert "custom" in first
    assert "custom" not in builtin_registry()
    assert first.describe()["custom"] == "Two jobs from nothing."
    assert first.transform("custom", {}) == [
        {"job_key": "a", "batch_type": "custom"},
        {"n": 2, "batch_type": "custom", "job_key": "job-2"},
    ]


def test_a_description_is_the_docstrings_whole_first_paragraph() -> None:
    described = builtin_registry().describe()["create_reinsurance_treaties"]

    assert described == (
        "One job per unique (treaty, EDM) pair named in the Analysis Table: create the treaty, "
        "with its lines of business, in the EDM."
    )


def test_registering_twice_needs_replace() -> None:
    registry = builtin_registry()

    with pytest.raises(BatchError, match="already registered"):
        registry.add("analysis", lambda data: [])
    registry.add("analysis", lambda data: [], description="replaced", replace=True)
    assert registry.describe()["analysis"] == "replaced"


@pytest.mark.parametrize("name", ["", "has space", "-dash-first", None])
def test_bad_names_are_refused(name: Any) -> None:
    with pytest.raises(BatchError, match="Invalid batch_type name"):
        TransformerRegistry().add(name, lambda data: [])


def test_a_transformer_cannot_change_the_callers_data() -> None:
    registry = TransformerRegistry()
    data: dict[str, Any] = {"rows": [1, 2]}

    @registry.register("greedy")
    def greedy(configuration: Mapping[str, Any]) -> list[dict[str, Any]]:
        configuration["rows"].append(3)
        return [{"rows": configuration["rows"]}]

    assert registry.transform("greedy", data)[0]["rows"] == [1, 2, 3]
    assert data == {"rows": [1, 2]}


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ({"not": "a list"}, "did not produce a list"),
        (["text"], "non-object job configuration at 0"),
        ([{"job_key": "x"}, {"job_key": "x"}], "produced the job_key 'x' twice"),
        ([{"value": {1, 2}}], "not JSON"),
        ([{"value": float("nan")}], "not JSON"),
    ],
)
def test_bad_output_is_a_batch_error(output: Any, message: str) -> None:
    registry = TransformerRegistry()
    registry.add("bad", lambda data: output)

    with pytest.raises(BatchError, match=message):
        registry.transform("bad", {})


def test_configuration_data_must_be_an_object() -> None:
    with pytest.raises(BatchError, match="must be a JSON object"):
        builtin_registry().transform("default", ["not", "a", "mapping"])  # type: ignore[arg-type]


def _install_plugin(root: Path, entry_points: str) -> None:
    (root / "irpd_test_plugin.py").write_text(
        "def extra(configuration_data):\n"
        "    '''One job per key.'''\n"
        "    return [{'job_key': key} for key in sorted(configuration_data)]\n"
        "broken = 42\n"
    )
    info = root / "irpd_test_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: irpd-test-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_entry_points_are_loaded_and_failures_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(tmp_path, (
        "[irpd.transformers]\n"
        "extra = irpd_test_plugin:extra\n"
        "broken = irpd_test_plugin:broken\n"
        "missing = irpd_test_plugin_nowhere:fn\n"
        "analysis = irpd_test_plugin:extra\n"
    ))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "irpd_test_plugin", raising=False)
    registry = builtin_registry()

    report = load_entry_points(registry)

    assert report.loaded == ("extra",)
    failed = dict(report.failed)
    assert set(failed) == {"analysis", "broken", "missing"}
    assert "already registered" in failed["analysis"]
    assert "not callable" in failed["broken"]
    assert "ModuleNotFoundError" in failed["missing"]
    assert registry.describe()["extra"] == "One job per key."
    assert registry.transform("extra", {"b": 1, "a": 2}) == [
        {"job_key": "a", "batch_type": "extra"},
        {"job_key": "b", "batch_type": "extra"},
    ]
