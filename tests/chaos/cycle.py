"""A cycle of generic jobs for the chaos scenarios, driven through the control socket.

One generic workbook (a ``jobs`` sheet) is registered; each round creates a few ``multi_job``
batches on it, scripts the fake to fail some of their workflows by name, and submits them.
A batch with a scripted failure must end FAILED, every other one COMPLETED.
"""

from __future__ import annotations

import base64
import io
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl

from irpd.engine.workflow_names import workflow_name

from .harness import FakeServer, call

FAILURE_MESSAGE = "scripted chaos failure"


def jobs_workbook(count: int) -> bytes:
    """A generic workbook whose ``jobs`` sheet feeds the ``multi_job`` batch type."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "jobs"
    sheet.append(["job_key", "portfolio", "threshold"])
    for index in range(count):
        sheet.append([f"chaos{index:04d}", f"PF{index % 7}", index % 100])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class Round:
    """Batches created and submitted together, and what each must end as."""

    batch_ids: tuple[int, ...]
    job_ids: tuple[int, ...]
    failing: Mapping[int, str]
    expected: Mapping[int, str]


@dataclass
class ChaosCycle:
    """The active cycle of one scenario and the rounds submitted on it."""

    socket_path: Path
    fake: FakeServer
    jobs_per_batch: int
    configuration_id: int = 0
    rounds: list[Round] = field(default_factory=list)

    @classmethod
    def create(cls, socket_path: Path, fake: FakeServer, jobs_per_batch: int) -> ChaosCycle:
        """Create the cycle and register its workbook."""
        cycle = cls(socket_path, fake, jobs_per_batch)
        name = f"chaos-{uuid.uuid4().hex[:8]}"
        call(socket_path, "cycle.create", name=name)
        loaded = call(
            socket_path,
            "config.load",
            cycle=name,
            filename="chaos-jobs.xlsx",
            content_b64=base64.b64encode(jobs_workbook(jobs_per_batch)).decode(),
        )
        cycle.configuration_id = int(loaded["configuration_id"])
        return cycle

    def add_round(
        self,
        batches: int,
        failing_batches: int,
        rng: random.Random,
        *,
        expected_status: str | None = None,
    ) -> Round:
        """Create ``batches`` batches; script 1–2 failures in ``failing_batches`` of them.
        ``expected_status`` overrides the status every batch of the round must end in."""
        batch_ids: list[int] = []
        job_ids: list[int] = []
        failing: dict[int, str] = {}
        expected: dict[int, str] = {}
        fail_in = set(rng.sample(range(batches), failing_batches))
        for index in range(batches):
            created = call(
                self.socket_path,
                "batch.create",
                batch_type="multi_job",
                configuration_id=self.configuration_id,
                allow_duplicate=f"chaos round batch {index + 1}",
            )
            batch_id = int(created.get("batch_id", created.get("id")))
            batch_ids.append(batch_id)
            names = self._workflow_names(batch_id)
            job_ids.extend(names)
            expected[batch_id] = "COMPLETED"
            if index in fail_in:
                for job_id in rng.sample(sorted(names), rng.randint(1, 2)):
                    failing[job_id] = names[job_id]
                expected[batch_id] = "FAILED"
            expected[batch_id] = expected_status or expected[batch_id]
        self.fake.script(
            [{"name": name, "outcome": "FAILED", "message": FAILURE_MESSAGE}
             for name in failing.values()]
        )
        made = Round(tuple(batch_ids), tuple(sorted(job_ids)), failing, expected)
        self.rounds.append(made)
        return made

    def submit(self, made: Round) -> None:
        """Queue every batch of the round."""
        for batch_id in made.batch_ids:
            call(self.socket_path, "batch.submit", batch_id=batch_id)

    def _workflow_names(self, batch_id: int) -> dict[int, str]:
        jobs = call(self.socket_path, "batch.jobs", batch_id=batch_id)["jobs"]
        configs = call(self.socket_path, "batch.configs", batch_id=batch_id)["job_configurations"]
        data = {int(c["id"]): c["job_configuration_data"] for c in configs}
        return {
            int(j["id"]): workflow_name(int(j["id"]), data[int(j["job_configuration_id"])])
            for j in jobs
        }

    @property
    def expected(self) -> dict[int, str]:
        """Batch id → the status it must end in."""
        return {b: s for r in self.rounds for b, s in r.expected.items()}

    @property
    def failing(self) -> dict[int, str]:
        """Job id → workflow name scripted to fail."""
        return {j: n for r in self.rounds for j, n in r.failing.items()}

    @property
    def job_ids(self) -> list[int]:
        """Every job of every round."""
        return [j for r in self.rounds for j in r.job_ids]


def batch_statuses(socket_path: Path, batch_ids: Sequence[int]) -> dict[int, str]:
    """Current status of each batch (through the daemon)."""
    return {b: str(call(socket_path, "batch.show", batch_id=b)["status"]) for b in batch_ids}


def settled(statuses: Mapping[int, Any]) -> bool:
    """Whether every batch is terminal."""
    return all(s in ("COMPLETED", "FAILED", "CANCELLED") for s in statuses.values())
