"""Parsing of Location headers, workflow objects, search bodies and error bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from irpd.moodys.responses import (
    decode_json,
    error_details,
    excerpt,
    id_from_location,
    parse_platform_job,
    parse_search_items,
    parse_timestamp,
    parse_workflow,
    parse_workflow_page,
)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("https://api-euw1.rms-ppe.com/riskmodeler/v1/workflows/22812421", "22812421"),
        ("/riskmodeler/v1/workflows/100000", "100000"),
        ("/riskmodeler/v1/workflows/100000/", "100000"),
        ("https://h/riskmodeler/v1/storage/77?x=1#frag", "77"),
        ("/platform/model/v1/jobs/a1b2-c3", "a1b2-c3"),
        ("  workflows/5 ", "5"),
    ],
)
def test_location_gives_the_last_path_segment(location: str, expected: str) -> None:
    assert id_from_location(location) == expected


@pytest.mark.parametrize("location", [None, "", "   ", "https://host/", "/"])
def test_location_without_an_id_is_an_error(location: str | None) -> None:
    with pytest.raises(ValueError, match="Location"):
        id_from_location(location)


def test_excerpt_strips_html_and_bounds_length() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body>\n<h1>Bad</h1></body></html>"
    assert excerpt(page) == "502 Bad Gateway Bad"
    assert len(excerpt(b"x" * 5000)) == 200


def test_excerpt_survives_binary() -> None:
    assert excerpt(b"\xff\xfe\x00abc") == "???abc"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"  ", "empty body"),
        (b'{"a": ', "invalid JSON"),
        (b"<html>oops</html>", "invalid JSON"),
        (b"\xff\xff", "not UTF-8"),
    ],
)
def test_decode_json_names_the_problem(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_json(body)


def test_error_details_from_moodys_body() -> None:
    details = error_details(
        b'{"code":"WORKFLOW-511","message":"Invalid workflow id: 9","logId":"e5"}'
    )
    assert (details.code, details.message, details.log_id) == (
        "WORKFLOW-511",
        "Invalid workflow id: 9",
        "e5",
    )
    assert details.excerpt is None


def test_error_details_from_html() -> None:
    details = error_details(b"<html><body>Service Unavailable</body></html>")
    assert details.code is None
    assert details.excerpt == "Service Unavailable"
    assert error_details(b"").excerpt is None


WORKFLOW = {
    "id": 22812421,
    "status": "RUNNING",
    "progress": 40,
    "name": "ANALYSIS_1",
    "type": "ANALYTICS_JOB",
    "submitTime": "2024-03-01T10:00:00.123Z",
    "startTime": "2024-03-01T10:01:00Z",
    "endTime": None,
    "messages": [{"message": "queued", "type": "INFO"}, {"message": ""}, "plain"],
}


def test_parse_workflow() -> None:
    status = parse_workflow(WORKFLOW)
    assert status.workflow_id == "22812421"
    assert status.status == "RUNNING"
    assert status.progress == 40
    assert status.name == "ANALYSIS_1"
    assert status.type == "ANALYTICS_JOB"
    assert status.submit_time == datetime(2024, 3, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert status.end_time is None
    assert status.messages == ("queued", "plain")
    assert status.raw is None
    assert not status.is_terminal
    assert parse_workflow(WORKFLOW, keep_raw=True).raw == WORKFLOW


def test_unknown_status_is_kept() -> None:
    status = parse_workflow({"id": "5", "status": "ON_HOLD"})
    assert status.status == "ON_HOLD"
    assert not status.is_known_status
    assert not status.is_terminal


@pytest.mark.parametrize(
    "obj",
    [[], {"status": "RUNNING"}, {"id": True, "status": "X"}, {"id": 1}, {"id": 1, "status": ""}],
)
def test_unusable_workflow_objects(obj: object) -> None:
    with pytest.raises(ValueError, match=r"workflow|id|status"):
        parse_workflow(obj)


def test_parse_platform_job_collects_task_errors() -> None:
    job = {
        "jobId": "77",
        "status": "FAILED",
        "progress": "100",
        "type": "DLM",
        "submittedAt": "2024-03-01T10:00:00Z",
        "tasks": [{"output": {"errors": [{"message": "Invalid treaty"}]}}, {"output": None}],
    }
    status = parse_platform_job(job)
    assert (status.workflow_id, status.status, status.progress) == ("77", "FAILED", 100)
    assert status.messages == ("Invalid treaty",)
    assert status.is_terminal


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-02T03:04:05Z", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2024-01-02T03:04:05", datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (1704164645000, datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
        (True, None),
        ("", None),
    ],
)
def test_parse_timestamp(value: object, expected: datetime | None) -> None:
    assert parse_timestamp(value) == expected


def test_workflow_page() -> None:
    assert parse_workflow_page({"totalMatchCount": 3, "workflows": [{}, {}]}) == (3, [{}, {}])
    assert parse_workflow_page({"workflows": None}) == (0, [])
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_workflow_page([])


def test_search_items_shapes() -> None:
    assert parse_search_items({"searchTotalMatch": 1, "searchItems": [{"id": 1}]}) == [{"id": 1}]
    assert parse_search_items({"items": [{"id": 2}, "junk"], "count": 1}) == [{"id": 2}]
    assert parse_search_items([{"id": 3}]) == [{"id": 3}]
    assert parse_search_items({"searchItems": None}) == []
    with pytest.raises(ValueError, match="no item list"):
        parse_search_items({"nothing": []})
