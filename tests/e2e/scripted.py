"""Batches whose outcomes are scripted on the fake Moody's by workflow name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from irpd.engine.workflow_names import workflow_name

from . import steps
from .harness import Irpctl
from .stack import Stack
from .workbooks import generic_jobs_workbook


@dataclass(frozen=True, slots=True)
class GenericBatch:
    """A ``multi_job`` batch of a generic workbook, with its job ids in order."""

    configuration_id: int
    batch_id: int
    job_ids: tuple[int, ...]


def name_of(ctl: Irpctl, job_id: int) -> str:
    """The deterministic workflow name the daemon will submit job ``job_id`` under."""
    return workflow_name(job_id, steps.job_configuration_data(ctl, job_id))


def script_failures(stack: Stack, job_ids: Iterable[int], message: str) -> None:
    """Make the next workflow of each job fail on the fake with ``message``."""
    for job_id in job_ids:
        stack.fake.script(name_of(stack.ctl, job_id), "FAILED", message)


def generic_batch(stack: Stack, directory: Path, count: int, prefix: str) -> GenericBatch:
    """A new cycle with a generic workbook of ``count`` jobs and a ``multi_job`` batch on it
    (created, not submitted)."""
    ctl = stack.ctl
    cycle = steps.create_cycle(ctl)
    configuration_id = steps.load_workbook(
        ctl, cycle, generic_jobs_workbook(directory, count, prefix)
    )
    batch_id = steps.create_batch(ctl, "multi_job", configuration_id)
    job_ids = tuple(int(j["id"]) for j in steps.jobs(ctl, batch_id))
    assert len(job_ids) == count
    return GenericBatch(configuration_id, batch_id, job_ids)


def run_with_failures(
    stack: Stack, directory: Path, count: int, failing: Iterable[int], prefix: str
) -> tuple[GenericBatch, list[dict[str, Any]]]:
    """A generic batch whose jobs at positions ``failing`` (0-based) fail on Moody's:
    submitted and waited for until every job is terminal. Returns the batch and its jobs."""
    batch = generic_batch(stack, directory, count, prefix)
    script_failures(stack, [batch.job_ids[i] for i in failing], f"scripted failure ({prefix})")
    steps.submit(stack.ctl, batch.batch_id)
    steps.wait(stack.ctl, batch.batch_id)
    return batch, steps.wait_jobs_terminal(stack.ctl, batch.batch_id)
