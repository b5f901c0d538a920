"""What the engine needs from Moody's: the subset of the client it calls and the circuit it
reads (Protocols). The engine reaches Moody's only through these; an import-linter contract
keeps it to them and the shared vocabulary (``irpd.moodys.models``, ``irpd.moodys.errors``)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from irpd.moodys.models import SubmissionResult, WorkflowStatus


class MoodysGateway(Protocol):
    """Submission, batched tracking and cancellation of Moody's workflows."""

    async def submit(
        self,
        job_configuration: Mapping[str, Any],
        *,
        workflow_name: str,
        request_id: uuid.UUID,
    ) -> SubmissionResult:
        """Submit one job; the same ``request_id`` makes a retry idempotent."""
        ...

    def submission_slot(self) -> AbstractAsyncContextManager[None]:
        """One of the submissions allowed in flight now (adaptive: follows the latency and
        errors of :meth:`submit`); held around each call."""
        ...

    async def get_workflows(self, ids: Sequence[str]) -> Mapping[str, WorkflowStatus]:
        """Statuses of many workflows in as few requests as possible."""
        ...

    def status_request_size(self) -> int:
        """Ids one status request carries now (the tracker's chunk size)."""
        ...

    def status_parallelism(self) -> int:
        """How many status requests may be in flight now (adaptive; the tracker runs that
        many chunks at once)."""
        ...

    async def find_workflows_by_name(self, name: str) -> Sequence[WorkflowStatus]:
        """Workflows whose name is exactly ``name``."""
        ...

    async def cancel(self, workflow_id: str) -> None:
        """Ask Moody's to cancel; raises ``NotCancellable`` for a terminal workflow."""
        ...


class MoodysCircuit(Protocol):
    """The transport's circuit breaker as the dispatcher sees it: whether new submissions may
    start, and whom to wake when Moody's answers again."""

    on_close: list[Callable[[], None]]

    def room(self) -> int | None:
        """None (no limit), 1 (a probe is due) or 0 (hold new submissions)."""
        ...
