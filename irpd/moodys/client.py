"""The Moody's client facade the daemon uses: submit, track, cancel, resolve reference data.

Usage::

    async with MoodysClient(settings) as client:
        result = await client.submit(job_configuration, workflow_name=name, request_id=key)
        statuses = await client.get_workflows([result.workflow_id])
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, Final

from irpd.moodys.adaptive import AdaptiveConcurrency, AdaptiveSettings
from irpd.moodys.circuit import MoodysHealthState
from irpd.moodys.errors import MoodysRetryableError
from irpd.moodys.lookups import Lookups
from irpd.moodys.models import SubmissionResult, WorkflowStatus
from irpd.moodys.platform import PlatformJobs
from irpd.moodys.refdata import ModelProfile, ReferenceData
from irpd.moodys.settings import MoodysSettings
from irpd.moodys.staging import ImportFileUploader, SkipUpload, SupportsClose
from irpd.moodys.submissions import Submission, SubmissionContext, submit
from irpd.moodys.transport import RequestObserver, Transport, TransportStats
from irpd.moodys.workflows import Workflows

#: the adaptive submission limit starts here (the fixed bound it replaced), or at
#: moodys.submit_concurrency when that is lower
INITIAL_SUBMIT_CONCURRENCY: Final = 8.0


class MoodysClient:
    """One client per process: one pooled HTTP session, one rate limiter, shared caches."""

    def __init__(
        self,
        settings: MoodysSettings,
        *,
        uploader: ImportFileUploader | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self._uploader: ImportFileUploader = uploader or SkipUpload()
        self._transport = transport
        #: reachability, circuit and authentication state (shared with the transport)
        self.health = transport.health if transport else MoodysHealthState(settings.circuit)
        self._parts: tuple[Workflows, ReferenceData, Lookups] | None = None
        self._platform: dict[str, PlatformJobs] = {}
        maximum = settings.concurrency.submissions
        #: how many submissions may be in flight (irpd.moodys.adaptive): the dispatcher holds
        #: a slot around each :meth:`submit`, which feeds the limit its latency and errors
        self.submission_limit = AdaptiveConcurrency(
            AdaptiveSettings(initial=min(INITIAL_SUBMIT_CONCURRENCY, maximum), maximum=maximum),
            rate=lambda: self.stats().current_rate,
        )

    def __repr__(self) -> str:
        return f"MoodysClient(base_url={self.settings.base_url!r})"

    async def __aenter__(self) -> MoodysClient:
        self.transport  # noqa: B018 - opens the session inside the running loop
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def transport(self) -> Transport:
        """The HTTP transport (opened on first use)."""
        if self._transport is None:
            self._transport = Transport.open(self.settings, health=self.health)
        return self._transport

    def _components(self) -> tuple[Workflows, ReferenceData, Lookups]:
        if self._parts is None:
            transport = self.transport
            self._parts = (Workflows(transport), ReferenceData(transport), Lookups(transport))
        return self._parts

    async def close(self) -> None:
        """Close the HTTP session (and the uploader's, if it has one)."""
        if isinstance(self._uploader, SupportsClose):
            await self._uploader.close()
        if self._transport is not None and not self._transport.closed:
            await self._transport.close()

    # --- submission --------------------------------------------------------------------

    async def submit(
        self, job_configuration: Mapping[str, Any], *, workflow_name: str, request_id: uuid.UUID
    ) -> SubmissionResult:
        """Submit one job configuration (dispatch on its ``batch_type``).

        ``workflow_name`` is the caller's deterministic name (``jobName``/``name``);
        ``request_id`` the idempotency key persisted before this call. Raises
        :class:`~irpd.moodys.errors.MoodysRetryableError` (send again with the SAME key) or
        :class:`~irpd.moodys.errors.MoodysPermanentError` (the job is in error).
        """
        _, reference, lookups = self._components()
        context = SubmissionContext(self.transport, reference, lookups, self._uploader)
        started = time.monotonic()
        try:
            result = await submit(context, Submission(job_configuration, workflow_name, request_id))
        except MoodysRetryableError:
            self.submission_limit.overloaded()  # 429, 5xx, time-out, circuit open
            raise
        self.submission_limit.record(time.monotonic() - started)
        return result

    @asynccontextmanager
    async def submission_slot(self) -> AsyncIterator[None]:
        """Hold one of the adaptive submission limit's slots (wait while all are taken)."""
        async with self.submission_limit.slot():
            yield

    def submission_parallelism(self) -> int:
        """Submissions allowed in flight now (the adaptive limit)."""
        return self.submission_limit.limit

    def adaptive_limits(self) -> dict[str, dict[str, float | int | None]]:
        """The adaptive limits now, for ``irpctl status``: requests allowed and in flight,
        the latency baseline and the latency now (ms)."""
        return {
            "submissions": _describe(self.submission_limit),
            "status_reads": _describe(self._components()[0].limit),
        }

    # --- tracking ----------------------------------------------------------------------

    async def get_workflow(self, workflow_id: str) -> WorkflowStatus | None:
        """One workflow's status (with ``raw``); ``None`` when Moody's says 204 not ready."""
        return await self._components()[0].get(workflow_id)

    async def get_workflows(
        self, ids: Sequence[str], *, keep_raw: bool = False
    ) -> dict[str, WorkflowStatus]:
        """Batched status lookup; ids Moody's did not return are absent from the result."""
        return await self._components()[0].get_many(ids, keep_raw=keep_raw)

    def status_request_size(self) -> int:
        """Ids one status request carries (within the URL bound, for ids seen lately)."""
        return self._components()[0].ids_per_request()

    def status_parallelism(self) -> int:
        """Status requests allowed in flight now (the adaptive limit, irpd.moodys.adaptive)."""
        return self._components()[0].limit.limit

    async def find_workflows_by_name(self, name: str) -> list[WorkflowStatus]:
        """Workflows named exactly ``name`` (crash recovery: was it submitted already?)."""
        return await self._components()[0].find_by_name(name)

    async def cancel(self, workflow_id: str) -> None:
        """Request cancellation; :class:`~irpd.moodys.errors.NotCancellable` when terminal."""
        await self._components()[0].cancel(workflow_id)

    def platform_jobs(self, api: str) -> PlatformJobs:
        """The tracker of one Platform API's jobs (``model``, ``riskdata``, ``import`` …)."""
        if api not in self._platform:
            self._platform[api] = PlatformJobs(self.transport, api)
        return self._platform[api]

    # --- reference data ----------------------------------------------------------------

    async def model_profile(self, name: str) -> ModelProfile:
        """The model profile called ``name`` (cached)."""
        return await self._components()[1].model_profile(name)

    async def output_profile_id(self, name: str) -> int:
        """The id of the output profile called ``name`` (cached)."""
        return await self._components()[1].output_profile_id(name)

    async def event_rate_scheme_id(
        self, name: str, *, peril_code: str | None = None, model_region_code: str | None = None
    ) -> int:
        """The id of an active event rate scheme (cached)."""
        return await self._components()[1].event_rate_scheme_id(
            name, peril_code=peril_code, model_region_code=model_region_code
        )

    @property
    def lookups(self) -> Lookups:
        """Name → id searches of exposures and results (pre-flight checks use them)."""
        return self._components()[2]

    def clear_reference_cache(self) -> None:
        """Forget cached reference data (e.g. at the start of a batch submission)."""
        self._components()[1].clear()

    def observe(self, observer: RequestObserver) -> None:
        """Tell ``observer`` about every HTTP attempt (endpoint, status, latency)."""
        self.transport.observer = observer

    def stats(self) -> TransportStats:
        """Requests sent, retries, 429s, current rate, not-before, in-flight counts."""
        if self._transport is None:
            limits = self.settings.rate_limit
            return TransportStats(0, 0, 0, 0, limits.initial_rate, 0.0, 0, 0)
        return self._transport.stats()


def _describe(limit: AdaptiveConcurrency) -> dict[str, float | int | None]:
    long, short = limit.latency()
    return {
        "limit": limit.limit,
        "in_flight": limit.in_flight,
        "latency_baseline_ms": None if long is None else round(long * 1000, 1),
        "latency_ms": None if short is None else round(short * 1000, 1),
        "overloads": limit.overloads,
    }
