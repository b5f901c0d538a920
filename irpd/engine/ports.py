"""What the engine needs from Moody's: the subset of the client it calls (a Protocol)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
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
