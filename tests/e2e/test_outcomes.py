"""Batch outcomes follow every operator command, through a real daemon (issue 11).

A batch is FAILED or CANCELLED only once none of its non-skipped jobs is in flight; until then
it stays ACTIVE and its report shows the failure. Skip, force-OK and cancel of the last
unsettled job move the batch to its outcome with no ``batch recon``; ``batch wait`` returns as
soon as the batch has an outcome (0/1) or needs an operator (4). The recon log's last row
matches the current counts.

A job is made to fail at once by a permanent refusal (400 on its submission: ERROR); the
other job runs for 100 real seconds, so it is still in flight while the test acts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.processes import eventually

from . import steps
from .harness import CtlResult, Irpctl
from .scripted import GenericBatch, generic_batch
from .stack import Stack

pytestmark = pytest.mark.e2e

#: generic workflows run for 100 real seconds: still in flight while the test acts
FAKE_ARGS = ("--duration", "USER_DEFINED=360000-360000")
IN_FLIGHT = ("SUBMITTED", "QUEUED", "PENDING", "RUNNING")
EXIT_NEEDS_OPERATOR = 4


@pytest.fixture
def refused_then_running(stack: Stack, tmp_path: Path) -> GenericBatch:
    """A batch of two jobs: the first ERROR (its submission refused with a 400), the second
    not yet submitted."""
    batch = generic_batch(stack, tmp_path, 2, f"outcome{tmp_path.name[-6:]}")
    refused = batch.job_ids[0]
    stack.fake.admin(
        "POST", "faults", {"rules": [{"methods": ["POST"], "error_rate": 1.0,
                                      "error_statuses": [400]}]}
    )
    try:
        submitted = stack.ctl("job", "submit", refused, check=False)
        assert submitted.rc == 1, submitted  # irpctl waits and reports the refusal
        steps.wait_job(stack.ctl, refused, {"ERROR"})
    finally:
        stack.fake.admin("POST", "faults", {"rules": []})
    return batch


def _wait(ctl: Irpctl, batch_id: int) -> CtlResult:
    return ctl("batch", "wait", batch_id, "--max-wait", 60, check=False, timeout=90)


def _report(ctl: Irpctl, batch_id: int) -> dict[str, Any]:
    report: dict[str, Any] = ctl.json("batch", "show", batch_id)["report"]
    return report


def _settles_to(ctl: Irpctl, batch_id: int, status: str) -> None:
    """The daemon moves the batch to ``status`` on its own (nobody runs ``batch recon``)."""
    eventually(
        lambda: True if steps.batch_status(ctl, batch_id) == status else None,
        f"batch {batch_id} to become {status}",
        30,
    )


def test_outcomes_follow_cancel_force_ok_and_skip_with_no_batch_recon(
    stack: Stack, refused_then_running: GenericBatch
) -> None:
    ctl = stack.ctl
    batch = refused_then_running
    refused, running = batch.job_ids

    # the refused job failed, the other one waits to be submitted: an operator must act
    waited = _wait(ctl, batch.batch_id)
    assert waited.rc == EXIT_NEEDS_OPERATOR, waited
    assert waited.json["status"] == "ACTIVE"
    assert waited.json["attention"] == {
        "next_action": "SUBMIT",
        "job_ids": [running],
        "jobs": 1,
    }

    # a failed job while another runs: ACTIVE, and the report says what can be done
    ctl.json("job", "submit", running)
    steps.wait_job(ctl, running, IN_FLIGHT)
    report = _report(ctl, batch.batch_id)
    assert (report["status"], report["failed_jobs"], report["next_action"]) == (
        "ACTIVE",
        1,
        "REVIEW_FAILURES",
    )

    # cancelling the last unsettled job settles the batch: FAILED
    ctl.json("job", "cancel", running)
    steps.wait_job(ctl, running, {"CANCELLED"})
    waited = _wait(ctl, batch.batch_id)
    assert (waited.rc, waited.json["status"]) == (1, "FAILED")
    report = _report(ctl, batch.batch_id)
    assert (report["last_recon_result"], report["status_counts"]) == (
        "FAILED",
        {"ERROR": 1, "CANCELLED": 1},
    )  # the daemon's recon log row is the current state

    # force-OK of the failure and skip of the cancelled job: COMPLETED, no batch recon
    ctl.json("job", "force-ok", refused, "--reason", "checked by hand (e2e)")
    ctl.json("job", "skip", running, "--reason", "not needed (e2e)")
    _settles_to(ctl, batch.batch_id, "COMPLETED")
    waited = _wait(ctl, batch.batch_id)
    assert (waited.rc, waited.json["status"]) == (0, "COMPLETED")
    report = _report(ctl, batch.batch_id)
    assert report["last_recon_result"] == "COMPLETED"
    assert (report["forced_ok_jobs"], report["skipped_jobs"], report["failed_jobs"]) == (1, 1, 0)

