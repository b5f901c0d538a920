"""The lean decoding of workflow pages gives exactly what the dict decoding gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from irpd.moodys.responses import (
    WorkflowPage,
    decode_json,
    decode_workflow_page,
    parse_workflow,
    parse_workflow_page,
)
from irpd.moodys.workflows import parse_items

FULL = {
    "id": 22812421,
    "tenantName": "t",
    "status": "RUNNING",
    "submitTime": "2024-03-01T10:00:00.123Z",
    "startTime": "2024-03-01T10:00:05",
    "endTime": None,
    "name": "ANALYSIS_1",
    "type": "ANALYTICS_JOB",
    "progress": 40.5,
    "jobs": [{"id": "x", "input": {"deep": [1, 2, {"a": None}]}, "output": {}}],
    "summary": "s",
    "output": {},
    "messages": [{"message": "queued", "type": "INFO"}, {"message": ""}, "plain"],
}


def _both(body: dict[str, Any]) -> tuple[Any, Any]:
    raw = json.dumps(body).encode()
    return decode_workflow_page(raw), decode_json(raw)


def _statuses(value: Any) -> list[Any]:
    _, items = parse_workflow_page(value)
    return parse_items(items, keep_raw=False)


def test_a_moodys_page_is_decoded_lean() -> None:
    lean, plain = _both({"totalMatchCount": 7, "workflows": [FULL, {**FULL, "id": "9"}]})
    assert isinstance(lean, WorkflowPage)
    assert parse_workflow_page(lean)[0] == parse_workflow_page(plain)[0] == 7
    assert _statuses(lean) == _statuses(plain)
    assert [s.workflow_id for s in _statuses(lean)] == ["22812421", "9"]


def test_lean_objects_keep_no_raw_json() -> None:
    lean = decode_workflow_page(json.dumps({"workflows": [FULL]}).encode())
    _, items = parse_workflow_page(lean)
    assert parse_workflow(items[0], keep_raw=True).raw is None


@pytest.mark.parametrize(
    "body",
    [
        {"totalMatchCount": 2, "workflows": [FULL, "not an object", 5]},
        {"workflows": [{**FULL, "startTime": 1709287200000}]},  # epoch milliseconds
        {"workflows": [{**FULL, "endTime": "yesterday"}, {**FULL, "submitTime": ""}]},
        {
            "workflows": [
                {**FULL, "submitTime": "2024-03-01"},
                {**FULL, "endTime": "2024-03-01T10:00:00+02:00"},
            ]
        },
        {
            "workflows": [
                {**FULL, "id": True},
                {**FULL, "id": " 7 "},
                {**FULL, "status": " RUNNING "},
            ]
        },
        {"workflows": [{**FULL, "id": ""}, {**FULL, "status": None}, {**FULL, "progress": "55.5"}]},
        {"totalMatchCount": "2", "workflows": [FULL, {"status": "QUEUED"}]},
        {"workflows": None},
        {},
    ],
)
def test_odd_pages_give_the_same_statuses(body: dict[str, Any]) -> None:
    lean, plain = _both(body)
    assert parse_workflow_page(lean)[0] == parse_workflow_page(plain)[0]
    assert _statuses(lean) == _statuses(plain)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"<html>busy</html>", "invalid JSON"),
        (b"\xff\xfe{}", "UTF-8|invalid JSON"),
    ],
)
def test_unreadable_bodies_fail_as_before(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_workflow_page(body)


def test_a_page_of_another_shape_is_judged_by_the_usual_checks() -> None:
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_workflow_page(decode_workflow_page(b"[1, 2]"))
    with pytest.raises(ValueError, match="not a list"):
        parse_workflow_page(decode_workflow_page(b'{"workflows": {"id": 1}}'))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
MEMBERS = ["id", "status", "progress", "name", "type", "submitTime", "endTime", "messages"]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.sampled_from(MEMBERS), JSON_VALUES), max_size=4))
def test_any_member_values_give_the_same_statuses(workflows: list[dict[str, Any]]) -> None:
    lean, plain = _both({"totalMatchCount": len(workflows), "workflows": workflows})
    assert _statuses(lean) == _statuses(plain)
