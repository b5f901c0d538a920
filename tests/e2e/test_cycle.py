"""A whole sample cycle through irpctl, and what ``irpctl status`` reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import steps
from .harness import EXIT_UNREACHABLE, STOP_TIMEOUT, Daemon, Irpctl
from .ledger import duplicate_problems, submissions_by_key
from .stack import Stack
from .workbooks import generic_jobs_workbook

pytestmark = pytest.mark.e2e


@pytest.mark.long  # CI: the plan e2e (test_cycle_plan.py) and the demo run the same cycle
def test_whole_sample_cycle_completes_with_one_submission_per_job(stack: Stack) -> None:
    ctl = stack.ctl
    registered = {t["name"] for t in ctl.json("types")["types"]}
    assert set(steps.SAMPLE_BATCH_ORDER) <= registered
    configuration_id = steps.load_sample(ctl)

    batch_ids: list[int] = []
    for batch_type in steps.SAMPLE_BATCH_ORDER:
        batch_id = steps.create_batch(ctl, batch_type, configuration_id)
        steps.submit(ctl, batch_id)
        rc, status = steps.wait(ctl, batch_id)
        assert (rc, status) == (0, "COMPLETED"), (
            f"{batch_type} batch {batch_id} ended {status}: "
            f"{[(j['id'], j['status'], j['last_error']) for j in steps.jobs(ctl, batch_id)]}"
        )
        summary = steps.recon_summary(steps.recon(ctl, batch_id))
        assert summary["total_configs"] > 0
        assert summary["fulfilled_configs"] == summary["total_configs"]
        assert summary["failed_job_ids"] == []
        batch_ids.append(batch_id)

    all_jobs = [job for batch_id in batch_ids for job in steps.jobs(ctl, batch_id)]
    assert {job["status"] for job in all_jobs} == {"FINISHED"}
    ledger = stack.ledger()
    assert duplicate_problems(ledger, all_jobs) == []
    keys = [steps.job_show(ctl, job["id"])["job"]["idempotency_key"] for job in all_jobs]
    assert None not in keys
    sent = submissions_by_key(ledger, keys)
    assert {key: n for key, n in sent.items() if n != 1} == {}


def test_status_reports_version_database_moodys_and_jobs(stack: Stack, tmp_path: Path) -> None:
    ctl = stack.ctl
    cycle = steps.create_cycle(ctl)
    configuration_id = steps.load_workbook(ctl, cycle, generic_jobs_workbook(tmp_path, 3, "status"))
    _, status = steps.run_batch(ctl, "multi_job", configuration_id)
    assert status == "COMPLETED"

    shown = ctl.json("status")
    assert shown["version"]
    assert shown["database"]["available"] is True
    assert shown["moodys"]["base_url"] == stack.fake.base_url
    assert shown["jobs_by_status"] == {"FINISHED": 3}

    stack.stop_daemon()
    assert ctl("status", check=False).rc == EXIT_UNREACHABLE


def test_irpctl_exits_3_when_the_socket_does_not_exist(tmp_path: Path) -> None:
    missing = Irpctl(tmp_path / "no-such.sock")
    done = missing("status", check=False)
    assert done.rc == EXIT_UNREACHABLE
    assert "no-such.sock" in done.stderr


def test_a_second_daemon_on_the_same_state_dir_refuses_to_start(stack: Stack) -> None:
    second = Daemon(stack.settings, generation=99)
    assert second.proc.wait(STOP_TIMEOUT) == 2
    assert "another irpd is running" in second.log_path.read_text()
    assert stack.ctl("status").rc == 0  # the first one is untouched
