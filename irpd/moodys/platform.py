"""Tracking Platform jobs (``/platform/{api}/v1/jobs``) behind the workflow status interface.

Each job is polled at its own API's URL (``riskdata`` answers "Invalid workflow id" for jobs
of other APIs). Batch search uses ``filter=jobId IN (…)``; since some APIs ignore ``filter``,
only the ids asked for are kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

import structlog

from irpd.moodys.errors import InvalidJobConfiguration
from irpd.moodys.models import WorkflowStatus
from irpd.moodys.responses import parse_platform_job
from irpd.moodys.transport import Transport
from irpd.moodys.workflows import chunked, note_unknown_status
from statemachines.moodys import MoodysStatus

_log = structlog.get_logger(__name__)

PLATFORM_APIS: Final = frozenset({"model", "riskdata", "import", "geohaz", "grouping", "export"})
CANCELLED: Final = MoodysStatus.CANCELLED.value
_MAX_PAGES: Final = 10_000


def job_filter(ids: Sequence[str]) -> str:
    """``jobId IN ("1","2")`` for a batch search."""
    quoted = ",".join('"' + job_id.replace('"', "") + '"' for job_id in ids)
    return f"jobId IN ({quoted})"


class PlatformJobs:
    """Jobs of one Platform API, with the same reads as the RM tracker."""

    def __init__(self, transport: Transport, api: str) -> None:
        if api not in PLATFORM_APIS:
            raise InvalidJobConfiguration(
                f"unknown Platform API {api!r}; known: {', '.join(sorted(PLATFORM_APIS))}"
            )
        self._transport = transport
        self.api = api
        self._base = f"/platform/{api}/v1/jobs"

    async def get(self, job_id: str, *, keep_raw: bool = True) -> WorkflowStatus | None:
        """One job; ``None`` on 204."""
        response = await self._transport.request("GET", f"{self._base}/{job_id}")
        if response.status == 204:
            return None
        try:
            return note_unknown_status(parse_platform_job(response.json(), keep_raw=keep_raw))
        except ValueError as exc:
            raise response.malformed(str(exc)) from None

    async def get_many(
        self, ids: Sequence[str], *, keep_raw: bool = False
    ) -> dict[str, WorkflowStatus]:
        """Statuses of ``ids`` by batched search; ids not returned are absent."""
        chunks = chunked(ids, self._transport.settings.status_batch_size)
        parts = await asyncio.gather(*(self._chunk(c, keep_raw=keep_raw) for c in chunks))
        merged: dict[str, WorkflowStatus] = {}
        for part in parts:
            merged.update(part)
        return merged

    async def search(
        self, filter_expression: str, *, keep_raw: bool = False
    ) -> list[WorkflowStatus]:
        """Every job matching a Platform ``filter`` expression (all pages)."""
        return await self._pages(filter_expression, limit=100, keep_raw=keep_raw)

    async def _chunk(self, chunk: list[str], *, keep_raw: bool) -> dict[str, WorkflowStatus]:
        wanted = set(chunk)
        jobs = await self._pages(job_filter(chunk), limit=len(chunk), keep_raw=keep_raw)
        return {job.workflow_id: job for job in jobs if job.workflow_id in wanted}

    async def _pages(
        self, filter_expression: str, *, limit: int, keep_raw: bool
    ) -> list[WorkflowStatus]:
        collected: list[WorkflowStatus] = []
        offset = 0
        for _ in range(_MAX_PAGES):
            params = {"filter": filter_expression, "limit": str(limit), "offset": str(offset)}
            response = await self._transport.request("GET", self._base, params=params)
            items = response.json()
            if not isinstance(items, list):
                raise response.malformed("job search did not return a JSON array")
            for item in items:
                try:
                    collected.append(
                        note_unknown_status(parse_platform_job(item, keep_raw=keep_raw))
                    )
                except ValueError as exc:
                    _log.warning("moodys_unreadable_job", api=self.api, reason=str(exc))
            offset += len(items)
            if len(items) < limit:
                break
        return collected

    async def cancel(self, job_id: str) -> None:
        """Ask for cancellation: ``PATCH {"status": "CANCELLED"}`` (202)."""
        await self._transport.request("PATCH", f"{self._base}/{job_id}", body={"status": CANCELLED})
