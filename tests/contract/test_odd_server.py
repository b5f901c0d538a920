"""Behaviour the fake does not produce, against a tiny real HTTP server of the test's own:
``Warning`` headers, unknown statuses, relative ``Location``, odd success bodies, a 403 that
names a rate limit, ``Retry-After`` as an HTTP date."""

from __future__ import annotations

import email.utils
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from structlog.testing import capture_logs

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import MoodysMalformedResponse, MoodysRateLimited
from irpd.moodys.retry import RetryPolicy
from irpd.moodys.secret import Secret
from irpd.moodys.settings import MoodysSettings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
QUICK = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0, max_elapsed=10.0)


class OddServer:
    """Routes given by the test; counts hits per path."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.hits: dict[str, int] = {}
        self.runner: web.AppRunner | None = None
        self.port = 0

    def route(self, method: str, path: str, handler: Handler) -> None:
        async def counted(request: web.Request) -> web.StreamResponse:
            self.hits[path] = self.hits.get(path, 0) + 1
            return await handler(request)

        self.app.router.add_route(method, path, counted)

    def client(self, **overrides: Any) -> MoodysClient:
        values: dict[str, Any] = {"base_url": f"http://127.0.0.1:{self.port}",
                                  "api_key": Secret("odd-key"), "retry": QUICK}
        values.update(overrides)
        return MoodysClient(MoodysSettings(**values))


@pytest.fixture
async def odd() -> AsyncIterator[OddServer]:
    server = OddServer()
    yield server
    if server.runner is not None:
        await server.runner.cleanup()


async def start(server: OddServer) -> None:
    server.runner = web.AppRunner(server.app)
    await server.runner.setup()
    site = web.TCPSite(server.runner, "127.0.0.1", 0)
    await site.start()
    server.port = server.runner.addresses[0][1]


def workflow(workflow_id: int, status: str) -> dict[str, Any]:
    return {"id": workflow_id, "status": status, "name": f"W{workflow_id}", "type": "X"}


async def test_unknown_statuses_are_kept_and_logged(odd: OddServer) -> None:
    async def single(request: web.Request) -> web.Response:
        return web.json_response(workflow(1, "ON_HOLD"))

    async def many(request: web.Request) -> web.Response:
        items = [workflow(1, "ON_HOLD"), workflow(2, "FINISHED"), workflow(3, "EXOTIC"),
                 {"id": 4}, workflow(99, "RUNNING")]
        return web.json_response({"totalMatchCount": 5, "workflows": items})

    odd.route("GET", "/riskmodeler/v1/workflows/1", single)
    odd.route("GET", "/riskmodeler/v1/workflows", many)
    await start(odd)
    with capture_logs() as logs:
        async with odd.client() as client:
            one = await client.get_workflow("1")
            several = await client.get_workflows(["1", "2", "3", "4"])
    assert one is not None
    assert (one.status, one.is_terminal, one.is_known_status) == ("ON_HOLD", False, False)
    assert {k: v.status for k, v in several.items()} == {"1": "ON_HOLD", "2": "FINISHED",
                                                         "3": "EXOTIC"}
    unknown = [e for e in logs if e["event"] == "moodys_unknown_status"]
    assert [(e["workflow_id"], e["status"]) for e in unknown] == [
        ("1", "ON_HOLD"), ("1", "ON_HOLD"), ("3", "EXOTIC")]
    assert any(e["event"] == "moodys_unreadable_workflow" for e in logs)


async def test_warning_headers_are_logged_once(odd: OddServer) -> None:
    async def deprecated(request: web.Request) -> web.Response:
        headers = {"Warning": '299 - "Deprecated, use v2 before 2026-01-01"',
                   "X-RMS-Warning": "endpoint retiring"}
        return web.json_response(workflow(1, "RUNNING"), headers=headers)

    odd.route("GET", "/riskmodeler/v1/workflows/1", deprecated)
    await start(odd)
    with capture_logs() as logs:
        async with odd.client() as client:
            for _ in range(3):
                await client.get_workflow("1")
    warnings = [e for e in logs if e["event"] == "moodys_warning_header"]
    assert sorted(e["header"] for e in warnings) == ["Warning", "X-RMS-Warning"]


async def test_relative_location_and_201(odd: OddServer) -> None:
    async def created(request: web.Request) -> web.Response:
        return web.Response(status=201, headers={"Location": "../v1/workflows/4242/"})

    odd.route("POST", "/riskmodeler/v1/workflows", created)
    await start(odd)
    async with odd.client() as client:
        result = await client.submit({"batch_type": "default", "metadata": {}},
                                     workflow_name="REL_1", request_id=uuid.uuid4())
    assert result.workflow_id == "4242"


async def test_success_without_location_or_with_an_empty_read_body(odd: OddServer) -> None:
    async def no_location(request: web.Request) -> web.Response:
        return web.Response(status=202)

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=200, text="")

    odd.route("POST", "/riskmodeler/v1/workflows", no_location)
    odd.route("GET", "/riskmodeler/v1/workflows/1", empty)
    await start(odd)
    async with odd.client() as client:
        with pytest.raises(MoodysMalformedResponse, match="missing Location"):
            await client.submit({"batch_type": "default", "metadata": {}},
                                workflow_name="NOLOC", request_id=uuid.uuid4())
        with pytest.raises(MoodysMalformedResponse, match="empty body"):
            await client.get_workflow("1")
    assert odd.hits["/riskmodeler/v1/workflows"] == 1
    assert odd.hits["/riskmodeler/v1/workflows/1"] == QUICK.max_attempts


async def test_a_403_naming_a_rate_limit_is_retried_and_http_date_honoured(
    odd: OddServer,
) -> None:
    async def throttled(request: web.Request) -> web.Response:
        if odd.hits["/riskmodeler/v1/workflows/1"] == 1:
            when = email.utils.formatdate(time.time() + 1, usegmt=True)
            return web.json_response(
                {"code": "IAM-403", "message": "Request rate limit exceeded"}, status=403,
                headers={"Retry-After": when},
            )
        return web.json_response(workflow(1, "RUNNING"))

    odd.route("GET", "/riskmodeler/v1/workflows/1", throttled)
    await start(odd)
    async with odd.client() as client:
        status = await client.get_workflow("1")
        stats = client.stats()
    assert status is not None
    assert stats.rate_limited == 1
    assert odd.hits["/riskmodeler/v1/workflows/1"] == 2


async def test_rate_limited_error_after_the_bound(odd: OddServer) -> None:
    async def always(request: web.Request) -> web.Response:
        return web.json_response({"code": "RATE", "message": "slow down"}, status=429)

    odd.route("GET", "/riskmodeler/v1/workflows/1", always)
    await start(odd)
    async with odd.client() as client:
        with pytest.raises(MoodysRateLimited):
            await client.get_workflow("1")
    assert odd.hits["/riskmodeler/v1/workflows/1"] == QUICK.max_attempts
