"""A job replaced by its resubmission (or skipped) is shown as that, not as a failure."""

from __future__ import annotations

from irpd.cli.views import View, job_row, status


def test_a_listed_job_says_what_replaced_it() -> None:
    assert job_row({"id": 1, "status": "FAILED", "skipped": True, "replaced_by_job_id": 4})[
        "skipped"
    ] == "replaced by 4"
    assert job_row({"id": 2, "status": "FAILED", "skipped": True})["skipped"] == "skipped"
    assert job_row({"id": 3, "status": "RUNNING", "skipped": False})["skipped"] == ""


def test_status_counts_skipped_jobs_apart_and_says_why() -> None:
    text = status({"jobs_by_status": {"FINISHED": 3, "SKIPPED": 1}}, View())
    assert "FINISHED  3" in text
    assert "SKIPPED   1 (replaced by a resubmission or skipped by an operator" in text
