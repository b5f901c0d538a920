"""Cancellation through irpctl: in flight (sent to Moody's as a DELETE) and before submission."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import steps
from .ledger import duplicate_problems
from .scripted import generic_batch
from .stack import Stack

pytestmark = pytest.mark.e2e

#: generic workflows run for 100 real seconds, so they are still in flight when cancelled
FAKE_ARGS = ("--duration", "USER_DEFINED=360000-360000")
IN_FLIGHT = ("SUBMITTED", "QUEUED", "PENDING", "RUNNING")


def _deletes(stack: Stack) -> list[str]:
    return [r["path"] for r in stack.requests() if r["method"] == "DELETE"]


def test_cancel_in_flight_jobs_reaches_moodys_and_cancels_the_batch(
    stack: Stack, tmp_path: Path
) -> None:
    ctl = stack.ctl
    batch = generic_batch(stack, tmp_path, 2, "cancel")
    steps.submit(ctl, batch.batch_id)
    first, second = batch.job_ids
    running = steps.wait_job(ctl, first, IN_FLIGHT)
    workflow_id = running["moodys_workflow_id"]
    assert workflow_id

    # in flight, a job can be neither skipped nor resubmitted: cancel first
    assert "cancel it first" in steps.refused(ctl, "job", "skip", first, "--reason", "x")
    assert "cancel it first" in steps.refused(ctl, "job", "resubmit", first)

    tracked = ctl.json("job", "track", first)  # an explicit poll, answered by Moody's
    assert tracked["status"] in IN_FLIGHT

    answer = ctl.json("job", "cancel", first)
    assert answer["status"] in ("CANCEL_REQUESTED", "CANCELLING", "CANCELLED")
    steps.wait_job(ctl, first, {"CANCELLED"})
    assert any(path.endswith(f"/workflows/{workflow_id}") for path in _deletes(stack))
    assert steps.batch_status(ctl, batch.batch_id) == "ACTIVE"  # the other job still runs

    steps.wait_job(ctl, second, IN_FLIGHT)
    ctl.json("job", "cancel", second)
    assert steps.wait(ctl, batch.batch_id) == (1, "CANCELLED")
    jobs = steps.jobs(ctl, batch.batch_id)
    assert {j["status"] for j in jobs} == {"CANCELLED"}
    assert steps.recon_status(steps.recon(ctl, batch.batch_id)) == "CANCELLED"
    assert len(_deletes(stack)) == 2
    assert duplicate_problems(stack.ledger(), jobs, unique_names=True) == []

    # a cancelled job cannot be cancelled again
    assert "CANCELLED" in steps.refused(ctl, "job", "cancel", first)


def test_cancel_of_an_initiated_job_is_immediate_and_never_reaches_moodys(
    stack: Stack, tmp_path: Path
) -> None:
    ctl = stack.ctl
    batch = generic_batch(stack, tmp_path, 2, "cancelinit")
    job_id = batch.job_ids[0]

    assert "no Moody's workflow yet" in steps.refused(ctl, "job", "track", job_id)
    answer = ctl.json("job", "cancel", job_id)
    assert answer["status"] == "CANCELLED"
    assert steps.job_show(ctl, job_id)["job"]["status"] == "CANCELLED"
    assert steps.batch_status(ctl, batch.batch_id) == "INITIATED"
    assert stack.ledger() == []
    assert _deletes(stack) == []


def test_cancel_survives_a_daemon_crash(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    batch = generic_batch(stack, tmp_path, 2, "cancelkill")
    steps.submit(ctl, batch.batch_id)
    job_id = batch.job_ids[0]
    workflow_id = steps.wait_job(ctl, job_id, IN_FLIGHT)["moodys_workflow_id"]
    ctl.json("job", "cancel", job_id)
    stack.daemon.kill()

    stack.start_daemon()
    steps.wait_job(ctl, job_id, {"CANCELLED"})
    assert any(path.endswith(f"/workflows/{workflow_id}") for path in _deletes(stack))
    other = steps.job_show(ctl, batch.job_ids[1])["job"]
    assert other["status"] in IN_FLIGHT  # the other job is still tracked, not lost
    assert steps.batch_status(ctl, batch.batch_id) == "ACTIVE"
