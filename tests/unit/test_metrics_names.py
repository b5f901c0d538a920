"""Moody's endpoint classes for the request metrics: ids replaced, so the label set stays small."""

from __future__ import annotations

import pytest

from irpd.monitoring.metrics import endpoint_class


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/riskmodeler/v1/workflows", "GET /riskmodeler/v1/workflows"),
        ("GET", "/riskmodeler/v1/workflows/22800001", "GET /riskmodeler/v1/workflows/{id}"),
        (
            "DELETE",
            "/riskmodeler/v1/workflows/22800001/cancel",
            "DELETE /riskmodeler/v1/workflows/{id}/cancel",
        ),
        (
            "GET",
            "/platform/v1/jobs/6f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
            "GET /platform/v1/jobs/{id}",
        ),
    ],
)
def test_ids_become_placeholders(method: str, path: str, expected: str) -> None:
    assert endpoint_class(method, path) == expected
