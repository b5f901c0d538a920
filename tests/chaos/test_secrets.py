"""The Moody's API key never appears in a log line, an error, ``status`` output or the
database: a daemon runs with a distinctive key through a cycle, refused commands, a 403 (the
key is forbidden) and a 401 (the key is unknown); then every log, every irpctl output, the
effective configuration and a dump of every table are searched for it."""

from __future__ import annotations

import base64
import secrets
import subprocess
import sys
from dataclasses import replace
from functools import partial

import pytest

from tests.processes import eventually

from . import dbtools
from .conftest import ChaosRun, Processes
from .cycle import jobs_workbook
from .harness import CtlResult, Daemon, DaemonSettings, irpctl
from .verdict import wait_settled
from .workbooks import corrupt_zip

pytestmark = pytest.mark.chaos


def test_the_api_key_is_never_revealed(chaos: ChaosRun, db_dsn: str, procs: Processes) -> None:
    suffix = secrets.token_hex(8)
    key = f"k-SECRET-5e1f-{suffix}"
    outputs: list[CtlResult] = []
    good = procs.fake(5, api_keys=[key])
    settings = DaemonSettings(db_dsn, good.base_url, procs.workdir, api_key=key)
    daemon = procs.daemon(settings, "irpd-good")

    def ctl(*args: object, expect: int | None = 0) -> CtlResult:
        done = irpctl(daemon.socket_path, *(str(a) for a in args))
        outputs.append(done)
        assert expect is None or done.rc == expect, done
        return done

    workbook = procs.workdir / "jobs.xlsx"
    workbook.write_bytes(jobs_workbook(4))
    broken = procs.workdir / "broken.xlsx"
    broken.write_bytes(corrupt_zip())
    ctl("cycle", "create", "secrets")
    ctl("config", "load", broken, "--cycle", "secrets", expect=1)
    configuration = ctl("config", "load", workbook, "--cycle", "secrets").json
    ctl("batch", "create", "no-such-type", "--config", configuration["configuration_id"], expect=1)
    batch = ctl("batch", "create", "multi_job", "--config", configuration["configuration_id"]).json
    batch_id = int(batch.get("batch_id", batch.get("id")))
    ctl("job", "cancel", 999_999, expect=1)
    ctl("cycle", "create", "secrets", expect=1)
    ctl("batch", "submit", batch_id, "--no-wait")
    wait_settled(db_dsn, [batch_id], timeout=60)
    job_id = int(ctl("batch", "jobs", batch_id).json["jobs"][0]["id"])
    ctl("status")

    for name, fake in (
        ("irpd-forbidden", procs.fake(6, api_keys=["another-key"], args=["--forbidden-key", key])),
        ("irpd-unknown", procs.fake(7, api_keys=["another-key"])),
    ):
        assert daemon.terminate() == 0
        daemon = procs.daemon(replace(settings, moodys_url=fake.base_url), name)
        ctl("job", "track", job_id, expect=1)
        second = ctl(
            "batch",
            "create",
            "multi_job",
            "--config",
            configuration["configuration_id"],
            "--allow-duplicate",
            f"another submission against {name}",
        ).json
        ctl("batch", "submit", int(second.get("batch_id", second.get("id"))), "--no-wait")
        eventually(partial(_refusals, daemon), "a refused submission logged", timeout=30)
        ctl("status")
    assert daemon.terminate() == 0

    shown_config = subprocess.run(
        [sys.executable, "-m", "irpd.cli.main", "config"],
        capture_output=True,
        text=True,
        env=settings.environment(),
        check=False,
        timeout=60,
    )
    assert shown_config.returncode == 0, shown_config.stderr
    places = {
        **{f"log {d.name}": d.log_text() for d in procs.daemons},
        **{f"irpctl #{i} {' '.join(o.args)}": o.stdout + o.stderr for i, o in enumerate(outputs)},
        "irpd config": shown_config.stdout + shown_config.stderr,
        "database": dbtools.dump_all(db_dsn),
    }
    encoded = base64.b64encode(key.encode()).decode()
    leaks = [
        where for where, text in places.items() if key in text or suffix in text or encoded in text
    ]
    assert not leaks, f"the API key appears in: {leaks}"
    refusals = [o for o in outputs if o.rc != 0]
    assert all(o.stderr.strip() for o in refusals), "a refusal without an error message"
    chaos.report(
        f"searched {len(places)} places ({len(outputs)} irpctl outputs, {len(procs.daemons)} "
        f"daemon logs, config, {places['database'].count(chr(10)) + 1} rows): no key; "
        f"refusals logged: {sum(len(_refusals(d) or []) for d in procs.daemons)}"
    )


def _refusals(daemon: Daemon) -> list[dict[str, object]] | None:
    """Submissions refused with 403 (``submission_refused``) or 401 (``moodys_auth_failed``)."""
    return daemon.events("submission_refused", "moodys_auth_failed") or None
