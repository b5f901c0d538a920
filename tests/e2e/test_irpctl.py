"""irpctl as an operator meets it (issue 13): overrides as edits, resubmissions that run, waits
that end, exit codes and errors for scripts, output for people, names that are text.

Every test drives ``irpctl`` as a subprocess against one real daemon and the module's fake
Moody's (one stack for the module: each test works in its own cycle or batch)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from irpd.db.provision import create_database, drop_database, with_database
from irpd.samples import sample_path
from tests.processes import clean_environment

from . import steps
from .harness import EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, FakeMoodys, Irpctl
from .scripted import generic_batch, name_of, script_failures
from .stack import Stack
from .workbooks import invalid_cycle_workbook

pytestmark = pytest.mark.e2e

EXIT_NEEDS_OPERATOR = 4
FIXED_EVENT_RATE = "RMS 2023 Long Term Event Rates"


@pytest.fixture(scope="module")
async def module_dsn(pg_admin_dsn: str, template_database: str) -> AsyncIterator[str]:
    """One migrated database for the module's daemon."""
    name = f"irpd_t_{uuid.uuid4().hex[:12]}"
    await create_database(pg_admin_dsn, name, template=template_database)
    yield with_database(pg_admin_dsn, name)
    await drop_database(pg_admin_dsn, name)


@pytest.fixture(scope="module")
def cli(fake: FakeMoodys, module_dsn: str) -> Iterator[Stack]:
    """The module's daemon; SIGTERM at the end must exit 0."""
    workdir = Path(tempfile.mkdtemp(prefix="irpd-cli-", dir="/tmp"))
    stack = Stack(fake, module_dsn, workdir)
    try:
        stack.start_daemon()
        yield stack
        assert stack.close() in (None, EXIT_OK), stack.logs()
    finally:
        stack.close()
        shutil.rmtree(workdir, ignore_errors=True)


def human(stack: Stack, *args: str | int | Path) -> subprocess.CompletedProcess[str]:
    """irpctl without --json (what a person sees; stdout is a pipe, so no colour)."""
    command = [sys.executable, "-m", "irpd.cli.irpctl", "--socket", str(stack.settings.socket_path)]
    return subprocess.run(
        [*command, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=clean_environment(),
        check=False,
    )


def _analysis_batch(stack: Stack) -> tuple[int, list[int]]:
    """A new cycle with the sample workbook, and its analysis batch (created)."""
    configuration_id = steps.load_sample(stack.ctl)
    batch_id = steps.create_batch(stack.ctl, "analysis", configuration_id)
    return batch_id, [int(j["id"]) for j in steps.jobs(stack.ctl, batch_id)]


def test_partial_override_merged_checked_queued_and_finished(cli: Stack) -> None:
    ctl = cli.ctl
    batch_id, jobs = _analysis_batch(cli)
    victim = jobs[2]
    parent = steps.job_configuration_data(ctl, victim)
    cli.fake.script(name_of(ctl, victim), "FAILED", "event rate scheme not licensed (e2e)")
    steps.submit(ctl, batch_id)
    assert steps.wait(ctl, batch_id) == (1, "FAILED")
    steps.wait_job(ctl, victim, {"FAILED"})

    # a bad override is refused key by key, nothing is stored
    bad = ctl("job", "resubmit", victim, "--set", "portfolio=NO_SUCH", "--set", "threshold=0.9",
              "--reason", "e2e", check=False)
    assert bad.rc == EXIT_REFUSED, bad
    problems = bad.json["error"]["details"]["problems"]
    assert [p["key"] for p in problems] == ["portfolio", "threshold"]
    assert "'NO_SUCH' is not listed in Portfolios" in bad.stderr
    assert len(steps.jobs(ctl, batch_id)) == len(jobs)

    # only the changed parameter: merged, checked, queued, acknowledged, then finished
    done = ctl("job", "resubmit", victim, "--set", f"event_rate={FIXED_EVENT_RATE}",
               "--set", "tags=null", "--reason", "licensed scheme (e2e)")
    new_id = int(done.json["job_id"])
    assert done.json["queued"] is True
    assert done.json["acknowledged_status"] not in ("INITIATED", "SUBMITTING")
    assert steps.wait(ctl, batch_id) == (0, "COMPLETED")
    shown = steps.job_show(ctl, new_id)
    assert shown["job"]["status"] == "FINISHED"
    data = shown["job_configuration"]["job_configuration_data"]
    assert data == {**{k: v for k, v in parent.items() if k != "tags"},
                    "event_rate": FIXED_EVENT_RATE}
    assert [c["key"] for c in shown["override"]["changes"]] == ["event_rate", "tags"]

    text = human(cli, "job", "show", new_id).stdout
    assert f"+ event_rate: {FIXED_EVENT_RATE}" in text
    assert f"- event_rate: {parent['event_rate']}" in text


def test_bulk_resubmission_of_failed_jobs(cli: Stack, tmp_path: Path) -> None:
    ctl = cli.ctl
    batch = generic_batch(cli, tmp_path, 3, f"bulk-{uuid.uuid4().hex[:6]}")
    script_failures(cli, batch.job_ids[:2], "scripted failure (bulk)")
    steps.submit(ctl, batch.batch_id)
    assert steps.wait(ctl, batch.batch_id) == (1, "FAILED")
    steps.wait_jobs_terminal(ctl, batch.batch_id)

    result = ctl.json("batch", "resubmit-failed", batch.batch_id, "--set", "priority=9",
                      "--reason", "bulk retry (e2e)")
    assert (result["resubmitted"], result["queued"]) == (2, 2)
    assert [p["job_id"] for p in result["jobs"]] == list(batch.job_ids[:2])
    assert steps.wait(ctl, batch.batch_id) == (0, "COMPLETED")
    for pair in result["jobs"]:
        assert steps.job_configuration_data(ctl, pair["new_job_id"])["priority"] == 9
    again = ctl("batch", "resubmit-failed", batch.batch_id, check=False)
    assert again.rc == EXIT_REFUSED
    assert "no FAILED or ERROR jobs" in again.stderr


def test_wait_returns_when_the_batch_needs_an_operator(cli: Stack, tmp_path: Path) -> None:
    ctl = cli.ctl
    batch = generic_batch(cli, tmp_path, 2, f"needs-{uuid.uuid4().hex[:6]}")
    # never submitted: nothing will happen without an operator
    waited = ctl("batch", "wait", batch.batch_id, "--max-wait", 60, check=False)
    assert waited.rc == EXIT_NEEDS_OPERATOR, waited
    assert waited.json["attention"]["next_action"] == "SUBMIT"
    assert waited.json["attention"]["job_ids"] == list(batch.job_ids)
    assert "needs an operator: SUBMIT" in waited.stderr

    # one job cancelled, the other finished: the batch waits for a resubmit or a skip
    cancelled, kept = batch.job_ids
    ctl("job", "cancel", cancelled)
    steps.submit(ctl, batch.batch_id)
    steps.wait_job(ctl, kept, {"FINISHED"})
    waited = ctl("batch", "wait", batch.batch_id, "--max-wait", 60, check=False)
    assert waited.rc == EXIT_NEEDS_OPERATOR, waited
    assert waited.json["attention"] == {
        "next_action": "RESUBMIT_OR_SKIP",
        "job_ids": [cancelled],
        "jobs": 1,
    }
    ctl("job", "skip", cancelled, "--reason", "not needed (e2e)")  # wakes the reconciler
    assert steps.wait(ctl, batch.batch_id) == (0, "COMPLETED")

    help_text = human(cli, "batch", "wait", "--help").stdout
    assert "--max-wait MAX_WAIT" in help_text
    assert "(default: 3600.0)" in help_text


def test_exit_codes_and_errors_for_scripts(cli: Stack, tmp_path: Path) -> None:
    ctl = cli.ctl
    cycle = steps.create_cycle(ctl)
    broken = ctl("config", "load", invalid_cycle_workbook(tmp_path), "--cycle", cycle,
                 "--dry-run", check=False)
    assert broken.rc == EXIT_REFUSED
    assert broken.json["valid"] is False
    checked = human(cli, "config", "load", sample_path(), "--cycle", cycle, "--dry-run")
    assert checked.returncode == EXIT_OK
    assert "valid     yes" in checked.stdout
    loaded = human(cli, "config", "load", sample_path(), "--cycle", cycle)
    assert loaded.returncode == EXIT_OK, loaded
    assert loaded.stdout.strip().isdigit(), loaded

    missing = ctl("job", "show", 999999, check=False)
    assert missing.rc == EXIT_REFUSED
    assert missing.json == {"error": {"type": "JobError", "message": "Job 999999 not found."}}
    assert missing.stderr == "irpctl: JobError: Job 999999 not found.\n"

    no_file = ctl("config", "load", tmp_path / "nope.xlsx", "--cycle", cycle, check=False)
    assert no_file.rc == EXIT_USAGE
    assert "nope.xlsx: no such file" in no_file.stderr
    assert no_file.json["error"]["type"] == "UsageError"
    bad_json = tmp_path / "override.json"
    bad_json.write_text("{not json", encoding="utf-8")
    invalid = ctl("job", "resubmit", 1, "--override", bad_json, "--reason", "r", check=False)
    assert invalid.rc == EXIT_USAGE
    assert f"{bad_json}: invalid JSON at line 1" in invalid.stderr

    gone = Irpctl(tmp_path / "none.sock")("status", check=False)
    assert gone.rc == EXIT_UNREACHABLE
    assert "cannot reach irpd" in gone.stderr
    assert gone.json["error"]["type"] == "DaemonUnreachable"

    # a reader that goes away (| head) ends irpctl quietly
    command = [sys.executable, "-m", "irpd.cli.irpctl", "--socket",
               str(cli.settings.socket_path), "cycle", "list"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_environment()
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.close()
        error_output = proc.stderr.read()
        assert proc.wait(60) == 141
    assert error_output == ""


def test_names_and_reasons_refuse_control_characters(cli: Stack, tmp_path: Path) -> None:
    ctl = cli.ctl
    for name in ("forged\nline", "right\u202eto-left", "escape\x1b[2J"):
        refused = ctl("cycle", "create", name, check=False)
        assert refused.rc == EXIT_REFUSED, refused
        assert "control characters" in refused.stderr, refused
    batch = generic_batch(cli, tmp_path, 1, f"text-{uuid.uuid4().hex[:6]}")
    skip = ctl("job", "skip", batch.job_ids[0], "--reason", "a\u202eb", check=False)
    assert skip.rc == EXIT_REFUSED
    assert "U+202E" in skip.stderr
    over = ctl("job", "resubmit", batch.job_ids[0], "--set", "target=x\ny", "--reason", "r",
               check=False)
    assert over.rc == EXIT_REFUSED
    assert "target" in over.stderr


def _documented_status() -> tuple[set[str], set[str]]:
    """(top-level keys, every name) of docs/control.md's ``status`` block."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "control.md").read_text("utf-8")
    block = text.split("### status", 1)[1].split("```", 2)[1]
    lines = block.strip().splitlines()
    top = set(re.findall(r"[a-z_]+", lines[0].split(":")[0]))
    top |= {m.group(1) for line in lines[1:] if (m := re.match(r"^ ([a-z_]+):", line))}
    return top, set(re.findall(r"[a-z_0-9]+", block))


def _keys(value: object) -> set[str]:
    """Every key of a JSON value, but inside the maps keyed by data (status → count)."""
    if isinstance(value, list):
        return set().union(*(_keys(item) for item in value))
    if not isinstance(value, dict):
        return set()
    data_keyed = ("transitions", "jobs_by_status")
    return set(value).union(*(_keys(v) for k, v in value.items() if k not in data_keyed))


def test_status_answers_what_the_docs_describe(cli: Stack) -> None:
    """``irpctl --json status`` has docs/control.md's top-level keys and no key the docs do
    not name."""
    status = json.loads(cli.ctl("status").stdout)
    top, names = _documented_status()
    assert set(status) == top
    assert not _keys(status) - names, f"not in docs/control.md: {sorted(_keys(status) - names)}"


def test_human_output_is_tables_and_blocks(cli: Stack) -> None:
    batch_id, _ = _analysis_batch(cli)
    shown = human(cli, "batch", "show", batch_id).stdout
    assert "next action    SUBMIT" in shown
    assert "{" not in shown
    status = human(cli, "status").stdout
    assert "jobs by status" in status
    assert "{" not in status
    types = human(cli, "types").stdout.splitlines()
    assert types[0].split() == ["NAME", "DESCRIPTION"]
    described = json.loads(subprocess.run(
        [*cli.ctl.command(["types"])], capture_output=True, text=True, timeout=60,
        env=clean_environment(), check=True,
    ).stdout)["types"]
    for row in described:  # nothing cut: every description whole on its line
        assert any(line.endswith(row["description"]) for line in types), row
