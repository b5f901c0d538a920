"""What an operator does with irpctl, one helper per step (every call is a real irpctl run)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from irpd.demo import BATCH_ORDER
from irpd.samples import sample_path
from tests.processes import HarnessError, eventually

from .harness import EXIT_REFUSED, Irpctl

#: the sample cycle's batch types in their natural order (the demo's order)
SAMPLE_BATCH_ORDER = BATCH_ORDER
TERMINAL_JOB_STATUSES = frozenset({"FINISHED", "FAILED", "CANCELLED", "FORCED_OK", "ERROR"})


def create_cycle(ctl: Irpctl, name: str | None = None) -> str:
    """Create the active cycle; returns its name."""
    cycle = name or f"e2e-{uuid.uuid4().hex[:8]}"
    ctl("cycle", "create", cycle)
    return cycle


def load_workbook(ctl: Irpctl, cycle: str, path: Path) -> int:
    """Register a workbook in ``cycle``; returns the configuration id."""
    loaded = ctl.json("config", "load", path, "--cycle", cycle)
    return int(loaded["configuration_id"])


def load_sample(ctl: Irpctl, cycle: str | None = None) -> int:
    """A new cycle with the shipped sample workbook loaded; returns the configuration id."""
    return load_workbook(ctl, create_cycle(ctl, cycle), sample_path())


def create_batch(
    ctl: Irpctl, batch_type: str, configuration_id: int, allow_duplicate: str | None = None
) -> int:
    """Create a batch (INITIATED jobs); returns its id. ``allow_duplicate``: the reason for a
    second live batch of the type on the configuration."""
    extra = ("--allow-duplicate", allow_duplicate) if allow_duplicate else ()
    created = ctl.json("batch", "create", batch_type, "--config", configuration_id, *extra)
    return int(created.get("batch_id", created.get("id")))


def submit(ctl: Irpctl, batch_id: int, *, wait: bool = True) -> dict[str, Any]:
    """Submit a batch; by default until Moody's acknowledged every job."""
    args: list[str | int] = ["batch", "submit", batch_id]
    if not wait:
        args.append("--no-wait")
    result: dict[str, Any] = ctl.json(*args)
    return result


def wait(ctl: Irpctl, batch_id: int, timeout: float = 90.0) -> tuple[int, str]:
    """``batch wait``: (exit code, final batch status)."""
    done = ctl("batch", "wait", batch_id, "--max-wait", timeout, check=False, timeout=timeout + 30)
    if done.rc not in (0, 1):
        raise HarnessError(f"batch wait did not end in a terminal status: {done}")
    return done.rc, str(done.json["status"])


def run_batch(ctl: Irpctl, batch_type: str, configuration_id: int) -> tuple[int, str]:
    """Create, submit and wait for a batch; returns (batch id, final status)."""
    batch_id = create_batch(ctl, batch_type, configuration_id)
    submit(ctl, batch_id)
    return batch_id, wait(ctl, batch_id)[1]


def jobs(ctl: Irpctl, batch_id: int, *extra: str) -> list[dict[str, Any]]:
    """``batch jobs`` rows, sorted by id."""
    rows: list[dict[str, Any]] = ctl.json("batch", "jobs", batch_id, *extra)["jobs"]
    return sorted(rows, key=lambda j: int(j["id"]))


def job_show(ctl: Irpctl, job_id: int) -> dict[str, Any]:
    """``job show``: job, configuration, tracking log, lineage."""
    shown: dict[str, Any] = ctl.json("job", "show", job_id)
    return shown


def job_configuration_data(ctl: Irpctl, job_id: int) -> dict[str, Any]:
    """The configuration data a job runs with."""
    data: dict[str, Any] = job_show(ctl, job_id)["job_configuration"]["job_configuration_data"]
    return data


def recon(ctl: Irpctl, batch_id: int) -> dict[str, Any]:
    """``batch recon``: the result and its summary."""
    result: dict[str, Any] = ctl.json("batch", "recon", batch_id)
    return result


def recon_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The summary inside a ``batch recon`` answer."""
    summary = result.get("recon_summary") or result.get("summary")
    if not isinstance(summary, dict):
        raise HarnessError(f"no recon summary in {result}")
    return summary


def recon_status(result: Mapping[str, Any]) -> str:
    """The status a ``batch recon`` decided."""
    return str(result.get("recon_result") or result.get("status"))


def batch_status(ctl: Irpctl, batch_id: int) -> str:
    """The batch's current status."""
    return str(ctl.json("batch", "show", batch_id)["status"])


def wait_job(
    ctl: Irpctl, job_id: int, statuses: Iterable[str], timeout: float = 60.0
) -> dict[str, Any]:
    """Until the job is in one of ``statuses``; returns its row."""
    wanted = frozenset(statuses)

    def probe() -> dict[str, Any] | None:
        job: dict[str, Any] = job_show(ctl, job_id)["job"]
        return job if job["status"] in wanted else None

    return eventually(probe, f"job {job_id} to reach {sorted(wanted)}", timeout)


def wait_jobs_terminal(ctl: Irpctl, batch_id: int, timeout: float = 90.0) -> list[dict[str, Any]]:
    """Until every job of the batch is terminal; returns them."""

    def probe() -> list[dict[str, Any]] | None:
        rows = jobs(ctl, batch_id)
        return rows if all(j["status"] in TERMINAL_JOB_STATUSES for j in rows) else None

    return eventually(probe, f"every job of batch {batch_id} to be terminal", timeout)


def write_override(directory: Path, data: Mapping[str, Any], name: str = "override") -> Path:
    """A JSON file for ``job resubmit --override``."""
    path = directory / f"{name}-{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(dict(data)), encoding="utf-8")
    return path


def refused(ctl: Irpctl, *args: str | float | Path) -> str:
    """Run a command that must be refused by the daemon (exit 1); returns its stderr."""
    done = ctl(*args, check=False)
    if done.rc != EXIT_REFUSED:
        raise HarnessError(f"expected a refusal (exit 1): {done}")
    return done.stderr
