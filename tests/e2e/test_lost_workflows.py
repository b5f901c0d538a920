"""Moody's restarted empty (the fake process stopped and started again on the same port):
the jobs it forgot become ERROR after ``engine.lost_workflow_after`` ("unknown to Moody's"),
their batch ends FAILED, ``batch wait`` returns, and a resubmitted job runs to FINISHED."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import steps
from .scripted import generic_batch
from .stack import Stack

pytestmark = pytest.mark.e2e

#: workflows stay queued (quota 0) until the test lets them run
FAKE_ARGS = ("--quota", "0")
DAEMON_ENV = {"IRPD_ENGINE_LOST_WORKFLOW_AFTER": "2"}
IN_FLIGHT = {"SUBMITTED", "QUEUED", "PENDING", "RUNNING"}


def test_workflows_moodys_forgot_become_error_and_can_be_resubmitted(
    stack: Stack, tmp_path: Path
) -> None:
    ctl = stack.ctl
    batch_id = generic_batch(stack, tmp_path, 3, "lost").batch_id
    steps.submit(ctl, batch_id)
    assert {j["status"] for j in steps.jobs(ctl, batch_id)} <= IN_FLIGHT

    stack.fake.restart_empty()
    assert steps.wait(ctl, batch_id) == (1, "FAILED")
    jobs = steps.jobs(ctl, batch_id)
    assert {j["status"] for j in jobs} == {"ERROR"}
    for job in jobs:
        assert f"workflow {job['moodys_workflow_id']} is unknown to Moody's" in job["last_error"]
    assert stack.daemon.log_events("moodys_workflow_lost")

    stack.fake.admin("POST", "quota", {"quota": None})
    replacement = int(ctl.json("job", "resubmit", jobs[0]["id"])["job_id"])  # queued, acknowledged
    assert steps.wait_job(ctl, replacement, steps.TERMINAL_JOB_STATUSES)["status"] == "FINISHED"
