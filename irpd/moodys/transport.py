"""HTTP to Moody's: one aiohttp session, auth headers, rate limit, concurrency, retries.

Every request first asks the circuit breaker (:mod:`irpd.moodys.circuit`: while Moody's is
unreachable only a probe is sent, the rest are refused at once), then waits for its semaphore
(submissions and reads apart), then for the shared rate limiter, and is sent at once.
Failures become typed errors (``irpd.moodys.errors``); retryable ones are retried under the
:class:`~irpd.moodys.retry.RetryPolicy`, except a POST without an ``X-RMS-RequestId``, which
is never sent twice.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import aiohttp
import structlog
from multidict import CIMultiDict, CIMultiDictProxy

from irpd.moodys.circuit import MoodysHealthState
from irpd.moodys.errors import (
    ErrorDetails,
    MoodysConnectionError,
    MoodysError,
    MoodysMalformedResponse,
    MoodysRateLimited,
    MoodysRetryableError,
    MoodysTimeout,
    MoodysTlsError,
    error_for_status,
)
from irpd.moodys.ratelimit import AdaptiveRateLimiter
from irpd.moodys.records import request_record, response_record
from irpd.moodys.responses import decode_json, error_details, excerpt, id_from_location
from irpd.moodys.retry import next_delay, parse_retry_after
from irpd.moodys.secret import RedactedHeaderValue, scrub
from irpd.moodys.settings import MoodysSettings

_log = structlog.get_logger(__name__)

RequestKind = Literal["submission", "read"]
#: told after every HTTP attempt: method, path, HTTP status (or ``timeout``, ``connection``,
#: ``tls``) and seconds from sending to the answer (the daemon's metrics listen to this)
RequestObserver = Callable[[str, str, str, float], None]
WARNING_HEADERS: Final = ("Warning", "X-RMS-Warning")
_MAX_REMEMBERED_WARNINGS: Final = 256
_FAILURE_LABELS: Final[dict[type[MoodysError], str]] = {
    MoodysTimeout: "timeout",
    MoodysTlsError: "tls",
    MoodysConnectionError: "connection",
}
#: statuses after which Moody's asks clients to back off (spec section 5, besides 429)
_PUSH_BACK_STATUSES: Final = frozenset({502, 503, 504})


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A complete 2xx response (errors never come back as values)."""

    method: str
    path: str
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes
    request: dict[str, Any]
    parsed: Any = field(default=None, compare=False, repr=False)

    def json(self) -> Any:
        """The JSON body; :class:`MoodysMalformedResponse` when it is not JSON."""
        if self.parsed is not None:
            return self.parsed
        try:
            return decode_json(self.body)
        except ValueError as exc:
            raise self.malformed(str(exc)) from None

    def location_id(self) -> str:
        """The id in the ``Location`` header (last path segment)."""
        try:
            return id_from_location(self.headers.get("Location"))
        except ValueError as exc:
            raise self.malformed(str(exc)) from None

    def record(self, *, workflow_id: str | None = None) -> dict[str, Any]:
        """A storable record of this response."""
        return response_record(self.status, self.headers, self.body, workflow_id=workflow_id)

    def malformed(self, reason: str) -> MoodysMalformedResponse:
        """The error for an unusable success response."""
        return MoodysMalformedResponse(
            f"unusable response ({reason})",
            http_status=self.status,
            method=self.method,
            path=self.path,
            details=ErrorDetails(excerpt=excerpt(self.body) or None),
        )


@dataclass(frozen=True, slots=True)
class TransportStats:
    """A snapshot for ``irpctl status``."""

    requests_sent: int
    retries: int
    rate_limited: int
    failures: int
    current_rate: float
    not_before_in: float
    in_flight_submissions: int
    in_flight_reads: int


@dataclass(frozen=True, slots=True)
class _Prepared:
    """One request as sent on every attempt (same bytes, same request id)."""

    method: str
    path: str
    params: Mapping[str, str] | None
    data: bytes | None
    safe_headers: dict[str, str]
    kind: RequestKind
    record: dict[str, Any]
    decode: Callable[[bytes], Any]


@dataclass(frozen=True, slots=True)
class _Failure:
    error: MoodysError
    retry_after: float | None


class _Counters:
    __slots__ = ("failures", "in_flight", "rate_limited", "requests_sent", "retries")

    def __init__(self) -> None:
        self.requests_sent = 0
        self.retries = 0
        self.rate_limited = 0
        self.failures = 0
        self.in_flight: dict[RequestKind, int] = {"submission": 0, "read": 0}


class Transport:
    """Sends requests to one Moody's tenant; create with :meth:`open`, end with :meth:`close`."""

    def __init__(
        self,
        settings: MoodysSettings,
        session: aiohttp.ClientSession,
        *,
        limiter: AdaptiveRateLimiter | None = None,
        rng: random.Random | None = None,
        health: MoodysHealthState | None = None,
    ) -> None:
        self.settings = settings
        self.health = health or MoodysHealthState(settings.circuit)
        self._session = session
        self._limiter = limiter or AdaptiveRateLimiter(settings.rate_limit)
        self._rng = rng or random.Random()
        self._semaphores: dict[RequestKind, asyncio.Semaphore] = {
            "submission": asyncio.Semaphore(settings.concurrency.submissions),
            "read": asyncio.Semaphore(settings.concurrency.status_reads),
        }
        self._counters = _Counters()
        self._warnings_seen: set[tuple[str, str]] = set()
        self.observer: RequestObserver | None = None
        timeouts = settings.timeouts
        self._timeout = aiohttp.ClientTimeout(
            total=timeouts.total, connect=timeouts.connect, sock_read=timeouts.read
        )

    @classmethod
    def open(cls, settings: MoodysSettings, **kwargs: Any) -> Transport:
        """A transport with its own pooled session (call inside the running event loop)."""
        connector = aiohttp.TCPConnector(
            limit=settings.concurrency.connections,
            limit_per_host=settings.concurrency.connections,
            ssl=settings.verify_tls,
        )
        session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
        )
        return cls(settings, session, **kwargs)

    async def close(self) -> None:
        """Close the session and its connections."""
        await self._session.close()

    @property
    def closed(self) -> bool:
        """Whether the session is closed."""
        return self._session.closed

    def stats(self) -> TransportStats:
        """Counters and limiter state right now."""
        counters = self._counters
        return TransportStats(
            requests_sent=counters.requests_sent,
            retries=counters.retries,
            rate_limited=counters.rate_limited,
            failures=counters.failures,
            current_rate=self._limiter.rate,
            not_before_in=self._limiter.not_before_in(),
            in_flight_submissions=counters.in_flight["submission"],
            in_flight_reads=counters.in_flight["read"],
        )

    def safe_headers(self, request_id: uuid.UUID | None) -> dict[str, str]:
        """The headers of a request other than ``Authorization`` (what records may show)."""
        headers: dict[str, str] = {}
        if self.settings.resource_group_id:
            headers["x-rms-resource-group-id"] = self.settings.resource_group_id
        if request_id is not None:
            headers["X-RMS-RequestId"] = str(request_id)
        return headers

    def _auth_header(self) -> RedactedHeaderValue:
        token = self.settings.bearer_token
        if token is not None:
            return RedactedHeaderValue(f"Bearer {token.reveal()}")
        return RedactedHeaderValue(self.settings.api_key.reveal())

    def _scrub(self, text: str) -> str:
        token = self.settings.bearer_token
        return scrub(
            text, self.settings.api_key.reveal(), token.reveal() if token is not None else ""
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        request_id: uuid.UUID | None = None,
        kind: RequestKind | None = None,
        decode: Callable[[bytes], Any] = decode_json,
    ) -> HttpResponse:
        """Send with retries; the 2xx response, or the typed error of the last attempt.

        ``kind`` picks the semaphore (default: ``read`` for GET, else ``submission``). A POST
        is retried only when it carries ``request_id`` (sent as ``X-RMS-RequestId``). A 200
        GET's body is decoded with ``decode`` (``ValueError``: a retryable malformed answer).
        """
        method = method.upper()
        safe = self.safe_headers(request_id if method in ("POST", "PATCH") else None)
        prepared = _Prepared(
            method=method,
            path=path,
            params=params,
            data=None if body is None else json.dumps(body, separators=(",", ":")).encode(),
            safe_headers=safe,
            kind=kind or ("read" if method == "GET" else "submission"),
            record=request_record(method, path, params=params, body=body, headers=safe),
            decode=decode,
        )
        may_retry = method != "POST" or request_id is not None
        start, attempt = self._limiter.now(), 0
        while True:
            attempt += 1
            probe = self.health.admit(method, path)  # MoodysUnavailable: the circuit is open
            try:
                outcome = await self._attempt(prepared)
            except BaseException:
                self.health.circuit.abandoned(probe=probe)
                raise
            if isinstance(outcome, HttpResponse):
                self.health.answered(authenticated=True)
                self._limiter.succeeded()
                return outcome
            error = outcome.error
            self.health.failed(error, probe=probe)
            self._note_failure(outcome, attempt)
            delay = next_delay(
                self.settings.retry,
                attempt=attempt,
                elapsed=self._limiter.now() - start,
                retryable=may_retry and isinstance(error, MoodysRetryableError),
                retry_after=outcome.retry_after,
                jitter=self._rng.random(),
            )
            if delay is None:
                self._counters.failures += 1
                _log.warning(
                    "moodys_request_failed",
                    method=method,
                    path=path,
                    http_status=error.http_status,
                    code=error.code,
                    error=type(error).__name__,
                    attempts=attempt,
                    retryable=isinstance(error, MoodysRetryableError),
                )
                raise error
            self._counters.retries += 1
            _log.info(
                "moodys_retry",
                method=method,
                path=path,
                attempt=attempt,
                delay=round(delay, 3),
                error=type(error).__name__,
                http_status=error.http_status,
            )
            await asyncio.sleep(delay)

    def _note_failure(self, failure: _Failure, attempt: int) -> None:
        error, slow_start = failure.error, self._limiter.slow_start
        if isinstance(error, MoodysRateLimited):
            self._counters.rate_limited += 1
            self._limiter.rate_limited(failure.retry_after)
            _log.warning(
                "moodys_rate_limited",
                method=error.method,
                path=error.path,
                http_status=error.http_status,
                retry_after=failure.retry_after,
                rate=round(self._limiter.rate, 3),
                attempt=attempt,
            )
        elif failure.retry_after is not None and isinstance(error, MoodysRetryableError):
            self._limiter.defer(failure.retry_after)
        elif isinstance(error, MoodysTimeout) or error.http_status in _PUSH_BACK_STATUSES:
            self._limiter.pushed_back()
        if slow_start and not self._limiter.slow_start:
            _log.info(
                "moodys_slow_start_ended",
                rate=round(self._limiter.rate, 3),
                http_status=error.http_status,
                error=type(error).__name__,
            )

    async def _attempt(self, prepared: _Prepared) -> HttpResponse | _Failure:
        method, path, data, kind = prepared.method, prepared.path, prepared.data, prepared.kind
        headers = CIMultiDict(prepared.safe_headers)
        headers["Authorization"] = self._auth_header()
        if data is not None:
            headers["Content-Type"] = "application/json"
        url = self.settings.root + path
        failure: MoodysError | None = None
        async with self._semaphores[kind]:
            await self._limiter.acquire()
            self._counters.requests_sent += 1
            self._counters.in_flight[kind] += 1
            sent = time.monotonic()
            try:
                async with self._session.request(
                    method,
                    url,
                    params=prepared.params,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                ) as resp:
                    payload = await resp.read()
                    status, resp_headers = resp.status, CIMultiDictProxy(CIMultiDict(resp.headers))
            except TimeoutError:
                failure = MoodysTimeout("no response in time", method=method, path=path)
            except aiohttp.ClientSSLError as exc:
                failure = MoodysTlsError(self._describe(exc), method=method, path=path)
            except (aiohttp.ClientError, OSError) as exc:
                failure = MoodysConnectionError(self._describe(exc), method=method, path=path)
            finally:
                self._counters.in_flight[kind] -= 1
        if self.observer is not None:
            code = str(status) if failure is None else _FAILURE_LABELS.get(type(failure), "error")
            self.observer(method, path, code, time.monotonic() - sent)
        if failure is not None:
            return _Failure(failure, None)
        self._log_warnings(method, path, resp_headers)
        if 200 <= status < 300:
            response = HttpResponse(method, path, status, resp_headers, payload, prepared.record)
            if method == "GET" and status == 200:
                return _checked_read(response, prepared.decode)
            return response
        retry_after = parse_retry_after(resp_headers.get("Retry-After"))
        details = _scrubbed(error_details(payload), self._scrub)
        error = error_for_status(
            status, method=method, path=path, details=details, retry_after=retry_after
        )
        return _Failure(error, retry_after)

    def _describe(self, exc: BaseException) -> str:
        text = self._scrub(str(exc))[:200]
        return f"{type(exc).__name__}: {text}" if text else type(exc).__name__

    def _log_warnings(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        for name in WARNING_HEADERS:
            value = headers.get(name)
            if value is None or (name, value) in self._warnings_seen:
                continue
            if len(self._warnings_seen) < _MAX_REMEMBERED_WARNINGS:
                self._warnings_seen.add((name, value))
            _log.warning(
                "moodys_warning_header", header=name, value=value[:300], method=method, path=path
            )


def _checked_read(
    response: HttpResponse, decode: Callable[[bytes], Any]
) -> HttpResponse | _Failure:
    """A 200 read must carry JSON; an unreadable one is a retryable failure."""
    try:
        parsed = decode(response.body)
    except ValueError as exc:
        return _Failure(response.malformed(str(exc)), None)
    return HttpResponse(
        response.method,
        response.path,
        response.status,
        response.headers,
        response.body,
        response.request,
        parsed,
    )


def _scrubbed(details: ErrorDetails, clean: Any) -> ErrorDetails:
    return ErrorDetails(
        code=details.code,
        message=clean(details.message) if details.message else None,
        log_id=details.log_id,
        excerpt=clean(details.excerpt) if details.excerpt else None,
    )
