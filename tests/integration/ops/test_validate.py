"""The pure argument validators (no database): messages, types, limits."""

from __future__ import annotations

import math
from typing import Any

import pytest

from irpd.errors import BatchError, JobError
from irpd.ops import validate


@pytest.mark.parametrize("value", [1, 42, 2**63 - 1])
def test_positive_id_accepts_bigint_range(value: int) -> None:
    assert validate.positive_id("batch_id", value, BatchError) == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (-1, "-1"),
        (0, "0"),
        (2**63, str(2**63)),
        (True, "True"),
        (False, "False"),
        ("7", "7"),
        (1.0, "1.0"),
        (None, "None"),
    ],
)
def test_positive_id_refuses_with_the_spec_message(value: object, shown: str) -> None:
    with pytest.raises(BatchError) as refused:
        validate.positive_id("batch_id", value, BatchError)
    assert str(refused.value) == f"Invalid batch_id: {shown}. Must be a positive integer."


def test_the_error_type_is_the_callers() -> None:
    with pytest.raises(JobError, match=r"^Invalid job_id: -1\. Must be a positive integer\.$"):
        validate.positive_id("job_id", -1, JobError)


def test_long_values_are_cut_in_messages() -> None:
    with pytest.raises(BatchError) as refused:
        validate.positive_id("batch_id", "x" * 10_000, BatchError)
    assert len(str(refused.value)) < 200


def test_choice_lists_the_allowed_values() -> None:
    allowed = ("INITIATED", "ACTIVE")
    assert validate.choice("status", "ACTIVE", allowed, BatchError) == "ACTIVE"
    with pytest.raises(BatchError) as refused:
        validate.choice("status", "INVALID", allowed, BatchError)
    assert str(refused.value) == "Invalid status: INVALID. Must be one of ['INITIATED', 'ACTIVE']"
    with pytest.raises(BatchError):
        validate.choice("status", "active", allowed, BatchError)  # exact match only
    assert validate.optional_choice("status", None, allowed, BatchError) is None


@pytest.mark.parametrize("value", [None, True, False])
def test_optional_bool_accepts(value: bool | None) -> None:
    assert validate.optional_bool("skipped", value, BatchError) is value


@pytest.mark.parametrize("value", [0, 1, "true", "false", []])
def test_optional_bool_refuses_non_bools(value: object) -> None:
    with pytest.raises(BatchError, match=r"^Invalid skipped: .*Must be true, false or null\.$"):
        validate.optional_bool("skipped", value, BatchError)


def test_reason_is_required_trimmed_and_bounded() -> None:
    assert validate.reason("reason", "  rerun after fix  ", JobError) == "rerun after fix"
    assert validate.reason("reason", "x" * 1000, JobError) == "x" * 1000
    for bad, message in [
        (None, "a reason is required"),
        ("", "must not be blank"),
        ("   \n ", "must not be blank"),
        (42, "must be a string, got int"),
        (b"bytes", "must be a string, got bytes"),
        ("x" * 1001, "1001 characters; at most 1000"),
        ("bad\x00nul", "control characters"),
    ]:
        with pytest.raises(JobError, match=message):
            validate.reason("reason", bad, JobError)
    assert validate.optional_reason("reason", None, JobError) is None


@pytest.mark.parametrize("value", [None, 0, 55, 100])
def test_progress_accepts_percentages(value: int | None) -> None:
    assert validate.progress("progress", value, JobError) == value


@pytest.mark.parametrize("value", [-1, 101, 50.5, True, "50"])
def test_progress_refuses_the_rest(value: object) -> None:
    with pytest.raises(JobError, match="Must be an integer from 0 to 100"):
        validate.progress("progress", value, JobError)


def test_json_object_accepts_what_jsonb_stores_unchanged() -> None:
    data: dict[str, Any] = {"a": [1, 2.5, None, True, {"b": "text"}], "c": {}}
    assert validate.json_object("data", data, JobError) is data


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([1, 2], "must be a JSON object \\(dict\\), got list"),
        ("{}", "got str"),
        ({1: "x"}, "key 1 is not a string"),
        ({"x": math.nan}, "nan is not a JSON number"),
        ({"x": math.inf}, "inf is not a JSON number"),
        ({"x": {1, 2}}, "a set is not JSON-serialisable"),
        ({"x": (1, 2)}, "a tuple is not JSON-serialisable"),
        ({"x": object()}, "a object is not JSON-serialisable"),
        ({"x": "nul\x00"}, "NUL"),
        ({"nul\x00": 1}, "NUL"),
    ],
)
def test_json_object_refuses(value: object, problem: str) -> None:
    with pytest.raises(JobError, match=problem):
        validate.json_object("job_configuration_data", value, JobError)


def test_json_object_refuses_deep_nesting_without_recursing_forever() -> None:
    deep: dict[str, Any] = {}
    cursor = deep
    for _ in range(10_000):
        cursor["x"] = {}
        cursor = cursor["x"]
    with pytest.raises(JobError, match="nested deeper than 64 levels"):
        validate.json_object("data", deep, JobError)


def test_exactly_one() -> None:
    message = "Must provide exactly one of: job_configuration_id or job_configuration_data"
    names = ("job_configuration_id", "job_configuration_data")
    assert validate.exactly_one(dict(zip(names, (5, None), strict=True)), JobError) == names[0]
    for pair in [(None, None), (5, {"a": 1})]:
        with pytest.raises(JobError) as refused:
            validate.exactly_one(dict(zip(names, pair, strict=True)), JobError)
        assert str(refused.value) == message


@pytest.mark.parametrize(
    "value", ["a\nb", "a\tb", "a\x1bb", "a\x7fb", "a\x9bb", "a\u202eb", "a\u2066b", "a\u2028b"]
)
def test_text_refuses_control_characters_newlines_and_bidi_overrides(value: str) -> None:
    with pytest.raises(BatchError, match="control characters"):
        validate.text("name", value, BatchError, max_length=10)


def test_text_keeps_other_unicode() -> None:
    assert validate.text("name", " Zürich 東京 ", BatchError, max_length=20) == "Zürich 東京"
