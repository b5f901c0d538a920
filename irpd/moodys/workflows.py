"""Tracking RM workflows: single and batched status reads, lookup by name, cancel."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Final

import structlog

from irpd.moodys.adaptive import AdaptiveConcurrency, AdaptiveSettings
from irpd.moodys.errors import MoodysBadRequest, MoodysRetryableError, NotCancellable
from irpd.moodys.models import WorkflowStatus
from irpd.moodys.responses import (
    decode_json,
    decode_workflow_page,
    parse_workflow,
    parse_workflow_page,
)
from irpd.moodys.transport import Transport

_log = structlog.get_logger(__name__)

WORKFLOWS: Final = "/riskmodeler/v1/workflows"
NOT_CANCELLABLE_CODE: Final = "WORKFLOW-515"
_STATUS_IN_MESSAGE: Final = re.compile(r"\bis\s+([A-Z_]+)\b")
_MAX_PAGES: Final = 10_000
#: the longest status-request URL sent (scheme, host, path and query). 8,000 bytes stays
#: under the usual request-line limits of the proxies and gateways in front of an API (8 KiB
#: in nginx and CloudFront, 8,190 bytes in Apache); 1,000 eight-digit ids would make 9,073.
MAX_STATUS_URL_BYTES: Final = 8000
#: the adaptive limit starts here (or at moodys.status_concurrency when that is lower)
INITIAL_STATUS_CONCURRENCY: Final = 4.0


def chunked(
    ids: Sequence[str], size: int, *, max_query: int | None = None
) -> list[list[str]]:
    """``ids`` without duplicates, in order, cut into lists of at most ``size`` whose
    comma-joined text is at most ``max_query`` characters."""
    unique = list(dict.fromkeys(str(i) for i in ids))
    if max_query is None:
        return [unique[start : start + size] for start in range(0, len(unique), size)]
    chunks: list[list[str]] = []
    current: list[str] = []
    used = -1  # no comma before the first id
    for item in unique:
        if current and (len(current) >= size or used + 1 + len(item) > max_query):
            chunks.append(current)
            current, used = [], -1
        current.append(item)
        used += 1 + len(item)
    if current:
        chunks.append(current)
    return chunks


def note_unknown_status(status: WorkflowStatus) -> WorkflowStatus:
    """Log a status outside the documented set (it is kept as-is and treated as active)."""
    if not status.is_known_status:
        _log.warning("moodys_unknown_status", workflow_id=status.workflow_id, status=status.status)
    return status


def parse_items(items: Iterable[object], *, keep_raw: bool) -> list[WorkflowStatus]:
    """Workflow objects → statuses; an unreadable item is logged and skipped."""
    parsed: list[WorkflowStatus] = []
    for item in items:
        try:
            parsed.append(note_unknown_status(parse_workflow(item, keep_raw=keep_raw)))
        except ValueError as exc:
            _log.warning("moodys_unreadable_workflow", reason=str(exc))
    return parsed


class Workflows:
    """The RM workflow tracker (``/riskmodeler/v1/workflows``)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        maximum = transport.settings.concurrency.status_reads
        #: how many ids= requests may be in flight (see irpd.moodys.adaptive)
        self.limit = AdaptiveConcurrency(
            AdaptiveSettings(initial=min(INITIAL_STATUS_CONCURRENCY, maximum), maximum=maximum),
            rate=lambda: transport.stats().current_rate,
        )
        size = transport.settings.status_batch_size
        fixed = len(f"{transport.settings.root}{WORKFLOWS}?ids=&limit={size}&offset=0")
        #: the longest comma-joined id list one request carries
        self.max_ids_text = MAX_STATUS_URL_BYTES - fixed
        self._id_chars = 0  # the longest workflow id asked for lately

    def ids_per_request(self) -> int:
        """How many ids one status request carries: ``status_batch_size``, or fewer when
        ids as long as the ones asked for lately would make the URL too long."""
        size = self._transport.settings.status_batch_size
        if not self._id_chars:
            return size
        return max(1, min(size, (self.max_ids_text + 1) // (self._id_chars + 1)))

    async def get(self, workflow_id: str, *, keep_raw: bool = True) -> WorkflowStatus | None:
        """One workflow; ``None`` on 204 ("not ready, poll again")."""
        response = await self._transport.request("GET", f"{WORKFLOWS}/{workflow_id}")
        if response.status == 204:
            return None
        try:
            return note_unknown_status(parse_workflow(response.json(), keep_raw=keep_raw))
        except ValueError as exc:
            raise response.malformed(str(exc)) from None

    async def get_many(
        self, ids: Sequence[str], *, keep_raw: bool = False
    ) -> dict[str, WorkflowStatus]:
        """Statuses of ``ids`` via ``?ids=`` batches; ids Moody's does not return are absent.

        RM workflow ids are integers: other strings are skipped (logged), so one bad id
        cannot fail a whole batch. Requests carry up to ``status_batch_size`` ids within a URL
        of :data:`MAX_STATUS_URL_BYTES`, and run concurrently within the adaptive limit;
        only ids that were asked for are kept.
        """
        size = self._transport.settings.status_batch_size
        usable = [i for i in (str(raw).strip() for raw in ids) if i.isdigit()]
        if len(usable) != len(ids):
            _log.warning("moodys_invalid_workflow_ids", skipped=len(ids) - len(usable))
        if usable:
            self._id_chars = max(map(len, usable))
        chunks = chunked(usable, size, max_query=self.max_ids_text)
        if not chunks:
            return {}
        results = await asyncio.gather(*(self._chunk(c, keep_raw=keep_raw) for c in chunks))
        merged: dict[str, WorkflowStatus] = {}
        for part in results:
            merged.update(part)
        return merged

    async def _chunk(self, chunk: list[str], *, keep_raw: bool) -> dict[str, WorkflowStatus]:
        wanted = set(chunk)
        params = {"ids": ",".join(chunk)}
        found: dict[str, WorkflowStatus] = {}
        # a request at least half full is a latency sample (a short one is faster: no signal)
        full = 2 * len(chunk) >= self._transport.settings.status_batch_size or (
            2 * len(params["ids"]) >= self.max_ids_text
        )
        async with self.limit.slot():
            started = time.monotonic()
            try:
                statuses = await self._pages(params, limit=len(chunk), keep_raw=keep_raw)
            except MoodysRetryableError:
                self.limit.overloaded()
                raise
            if full:
                self.limit.record(time.monotonic() - started)
        for status in statuses:
            if status.workflow_id in wanted:
                found[status.workflow_id] = status
        return found

    async def find_by_name(self, name: str, *, keep_raw: bool = False) -> list[WorkflowStatus]:
        """Workflows whose name is exactly ``name`` (newest first, as Moody's sorts them)."""
        statuses = await self._pages({"workflowname": name}, limit=100, keep_raw=keep_raw)
        return [status for status in statuses if status.name == name]

    async def search(
        self, params: Mapping[str, str], *, limit: int = 100, keep_raw: bool = False
    ) -> list[WorkflowStatus]:
        """Every workflow matching the list filters (§2.2), all pages."""
        return await self._pages(dict(params), limit=limit, keep_raw=keep_raw)

    async def _pages(
        self, params: dict[str, str], *, limit: int, keep_raw: bool
    ) -> list[WorkflowStatus]:
        collected: list[WorkflowStatus] = []
        offset, seen = 0, 0
        # without the raw objects, only the members a status needs are decoded
        decode = decode_json if keep_raw else decode_workflow_page
        for _ in range(_MAX_PAGES):
            page_params = {**params, "limit": str(limit), "offset": str(offset)}
            response = await self._transport.request(
                "GET", WORKFLOWS, params=page_params, decode=decode
            )
            try:
                total, items = parse_workflow_page(response.json())
            except ValueError as exc:
                raise response.malformed(str(exc)) from None
            collected.extend(parse_items(items, keep_raw=keep_raw))
            seen += len(items)
            offset += len(items)
            if not items or seen >= total:
                break
        return collected

    async def cancel(self, workflow_id: str) -> None:
        """Request cancellation (202). A terminal workflow raises :class:`NotCancellable`."""
        try:
            await self._transport.request("DELETE", f"{WORKFLOWS}/{workflow_id}")
        except MoodysBadRequest as exc:
            if exc.code != NOT_CANCELLABLE_CODE:
                raise
            failure: MoodysBadRequest = exc
        else:
            return
        raise await self._not_cancellable(workflow_id, failure)

    async def _not_cancellable(self, workflow_id: str, failure: MoodysBadRequest) -> NotCancellable:
        current = _status_from_message(failure.moodys_message)
        if current is None:
            status = await self.get(workflow_id, keep_raw=False)
            current = status.status if status is not None else None
        return NotCancellable(
            f"workflow {workflow_id} cannot be cancelled (status {current})",
            current_status=current,
            http_status=failure.http_status,
            method=failure.method,
            path=failure.path,
            details=failure.details,
        )


def _status_from_message(message: str | None) -> str | None:
    match = _STATUS_IN_MESSAGE.search(message or "")
    return match.group(1) if match else None
