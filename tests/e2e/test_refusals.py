"""Refused commands change nothing: irpctl's usage errors (exit 2) and the daemon's refusals
(exit 1, with the domain message) leave every irp_* table and the fake's ledger as they were."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from . import steps
from .dbsnap import TableDigest, settled_snapshot, snapshot
from .harness import EXIT_REFUSED, EXIT_USAGE
from .ledger import duplicate_problems
from .stack import Stack
from .workbooks import generic_jobs_workbook, invalid_cycle_workbook

pytestmark = pytest.mark.e2e

MISSING = 4242
TOO_BIG = str(2**63)  # one past the largest id (BIGINT): refused by irpctl itself


@dataclass(frozen=True, slots=True)
class Settled:
    """A cycle with a COMPLETED batch and an INITIATED one, and the database's fingerprint."""

    cycle: str
    configuration_id: int
    completed_batch: int
    finished_job: int
    initiated_batch: int
    initiated_job: int
    before: dict[str, TableDigest]
    ledger_size: int


def _settle(stack: Stack, directory: Path, prefix: str) -> Settled:
    ctl = stack.ctl
    cycle = steps.create_cycle(ctl)
    configuration_id = steps.load_workbook(ctl, cycle, generic_jobs_workbook(directory, 2, prefix))
    completed, status = steps.run_batch(ctl, "multi_job", configuration_id)
    assert status == "COMPLETED"
    initiated = steps.create_batch(ctl, "multi_job", configuration_id, "a second, unsubmitted one")
    before = settled_snapshot(stack.db_dsn)
    return Settled(
        cycle,
        configuration_id,
        completed,
        int(steps.jobs(ctl, completed)[0]["id"]),
        initiated,
        int(steps.jobs(ctl, initiated)[0]["id"]),
        before,
        len(stack.ledger()),
    )


def _changed(stack: Stack, settled: Settled) -> list[str]:
    after = snapshot(stack.db_dsn)
    tables = sorted(
        t for t in after.keys() | settled.before.keys() if after.get(t) != settled.before.get(t)
    )
    ledger = len(stack.ledger())
    return tables + (
        [f"ledger {settled.ledger_size} -> {ledger}"] if ledger != settled.ledger_size else []
    )


def _check(
    stack: Stack, settled: Settled, cases: list[tuple[tuple[str | int | Path, ...], int, str]]
) -> list[str]:
    """Run each command; list every one that did not exit as expected, lacked its message, or
    changed something."""
    problems: list[str] = []
    for args, expected_rc, fragment in cases:
        done = stack.ctl(*args, check=False)
        if done.rc != expected_rc or fragment not in done.stderr:
            problems.append(f"expected exit {expected_rc} with {fragment!r}: {done}")
        changed = _changed(stack, settled)
        if changed:
            problems.append(f"irpctl {' '.join(map(str, args))} changed {changed}")
    return problems


def test_usage_errors_exit_2_and_change_nothing(stack: Stack, tmp_path: Path) -> None:
    s = _settle(stack, tmp_path, "usage")
    not_an_object = tmp_path / "list.json"
    not_an_object.write_text(json.dumps([1, 2]), encoding="utf-8")
    cases: list[tuple[tuple[str | int | Path, ...], int, str]] = [
        (("batch", "show", "-1"), EXIT_USAGE, "must be a positive integer"),
        (("batch", "show", "0"), EXIT_USAGE, "must be a positive integer"),
        (("batch", "show", TOO_BIG), EXIT_USAGE, "must be a positive integer up to"),
        (("job", "show", TOO_BIG), EXIT_USAGE, "must be a positive integer up to"),
        (("job", "show", "abc"), EXIT_USAGE, "not an integer"),
        (("batch", "submit", "1.5"), EXIT_USAGE, "not an integer"),
        (("job", "cancel", "-7"), EXIT_USAGE, "must be a positive integer"),
        (("job", "force-ok", s.initiated_job), EXIT_USAGE, "--reason"),
        (("job", "skip", s.initiated_job), EXIT_USAGE, "--reason"),
        (("batch", "create", "edm_creation"), EXIT_USAGE, "--config"),
        (
            (
                "job",
                "resubmit",
                s.initiated_job,
                "--override",
                tmp_path / "missing.json",
                "--reason",
                "r",
            ),
            EXIT_USAGE,
            "missing.json",
        ),
        (
            ("job", "resubmit", s.initiated_job, "--override", not_an_object, "--reason", "r"),
            EXIT_USAGE,
            "must be a JSON object",
        ),
    ]
    assert _check(stack, s, cases) == []


def test_refusals_on_what_does_not_exist_exit_1_and_change_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    s = _settle(stack, tmp_path, "missing")
    job_missing = f"Job {MISSING} not found"
    batch_missing = f"Batch {MISSING} not found"
    cases: list[tuple[tuple[str | int | Path, ...], int, str]] = [
        (
            ("batch", "create", "no_such_type", "--config", s.configuration_id),
            EXIT_REFUSED,
            "Unknown batch_type 'no_such_type'. Registered types:",
        ),
        (
            ("batch", "create", "edm_creation", "--config", MISSING),
            EXIT_REFUSED,
            f"Configuration {MISSING} not found",
        ),
        (("config", "show", MISSING), EXIT_REFUSED, str(MISSING)),
        (("batch", "show", MISSING), EXIT_REFUSED, batch_missing),
        (("batch", "jobs", MISSING), EXIT_REFUSED, batch_missing),
        (("batch", "configs", MISSING), EXIT_REFUSED, batch_missing),
        (("batch", "submit", MISSING), EXIT_REFUSED, batch_missing),
        (("batch", "recon", MISSING), EXIT_REFUSED, batch_missing),
        (("batch", "wait", MISSING, "--max-wait", "5"), EXIT_REFUSED, batch_missing),
        (("job", "show", MISSING), EXIT_REFUSED, job_missing),
        (("job", "submit", MISSING), EXIT_REFUSED, job_missing),
        (("job", "track", MISSING), EXIT_REFUSED, job_missing),
        (("job", "cancel", MISSING), EXIT_REFUSED, job_missing),
        (("job", "resubmit", MISSING), EXIT_REFUSED, job_missing),
        (("job", "skip", MISSING, "--reason", "r"), EXIT_REFUSED, job_missing),
        (("job", "force-ok", MISSING, "--reason", "r"), EXIT_REFUSED, job_missing),
    ]
    assert _check(stack, s, cases) == []
    registered = stack.ctl(
        "batch", "create", "nope", "--config", s.configuration_id, check=False
    ).stderr
    assert all(name in registered for name in (*steps.SAMPLE_BATCH_ORDER, "multi_job"))


def test_refusals_of_illegal_operations_exit_1_and_change_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    s = _settle(stack, tmp_path, "illegal")
    override = steps.write_override(tmp_path, {"job_key": "x"})
    cases: list[tuple[tuple[str | int | Path, ...], int, str]] = [
        (
            ("job", "resubmit", s.initiated_job, "--override", override),
            EXIT_REFUSED,
            "reason is required",
        ),
        (("batch", "submit", s.completed_batch), EXIT_REFUSED, str(s.completed_batch)),
        (("job", "cancel", s.finished_job), EXIT_REFUSED, "FINISHED"),
        (("job", "resubmit", s.finished_job), EXIT_REFUSED, "COMPLETED"),
        (("job", "skip", s.finished_job, "--reason", "r"), EXIT_REFUSED, "COMPLETED"),
        (("job", "submit", s.finished_job), EXIT_REFUSED, "COMPLETED"),
        (("job", "force-ok", s.finished_job, "--reason", "r"), EXIT_REFUSED, "FINISHED"),
        (("batch", "jobs", s.completed_batch, "--status", "BOGUS"), EXIT_REFUSED, "BOGUS"),
        (
            ("config", "load", invalid_cycle_workbook(tmp_path), "--cycle", s.cycle),
            EXIT_REFUSED,
            "broken-cycle.xlsx",
        ),
    ]
    assert _check(stack, s, cases) == []


def test_invalid_workbook_lists_its_problems_and_stores_nothing(
    stack: Stack, tmp_path: Path
) -> None:
    ctl = stack.ctl
    cycle = steps.create_cycle(ctl)
    before = settled_snapshot(stack.db_dsn)
    done = ctl("config", "load", invalid_cycle_workbook(tmp_path), "--cycle", cycle, check=False)
    assert done.rc == EXIT_REFUSED
    problems = done.json["error"]["details"]["problems"]
    found = {(p["sheet"], p["row"], p["column"], p["code"]) for p in problems}
    assert ("Portfolios", 3, "Portfolio", "NULL-REQUIRED") in found
    assert any(
        p["sheet"] == "Analysis Table" and "RM_EDM_NO_SUCH_DB" in p["message"] for p in problems
    )
    assert snapshot(stack.db_dsn) == before
    assert ctl.json("config", "list")["configurations"] == []

    checked = ctl(
        "config", "load", invalid_cycle_workbook(tmp_path), "--cycle", cycle, "--dry-run",
        check=False,
    )
    assert checked.rc == EXIT_REFUSED  # an invalid workbook fails the check
    dry = checked.json
    assert dry["valid"] is False
    assert dry["problems"]
    assert snapshot(stack.db_dsn) == before


def test_second_submit_of_a_batch_is_refused_and_nothing_is_sent_twice(
    stack: Stack, tmp_path: Path
) -> None:
    ctl = stack.ctl
    cycle = steps.create_cycle(ctl)
    configuration_id = steps.load_workbook(ctl, cycle, generic_jobs_workbook(tmp_path, 4, "twice"))
    batch_id = steps.create_batch(ctl, "multi_job", configuration_id)
    first = steps.submit(ctl, batch_id, wait=False)
    assert first["submitted_jobs"] == 4

    message = steps.refused(ctl, "batch", "submit", batch_id)
    assert "no INITIATED jobs to submit" in message
    assert steps.wait(ctl, batch_id) == (0, "COMPLETED")
    assert "COMPLETED" in steps.refused(ctl, "batch", "submit", batch_id)

    jobs = steps.jobs(ctl, batch_id)
    assert len(jobs) == 4
    assert duplicate_problems(stack.ledger(), jobs, unique_names=True) == []
    assert len(stack.ledger()) == 4
