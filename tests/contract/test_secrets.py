"""The API key never appears in an exception, a repr, a log line or a returned record."""

from __future__ import annotations

import dataclasses
import json
import traceback
import uuid
from typing import Any

import pytest
import structlog
from aiohttp import web
from structlog.testing import capture_logs

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import MoodysError
from irpd.moodys.fake import FakeMoodys, Faults
from irpd.moodys.retry import RetryPolicy
from irpd.moodys.secret import Secret
from irpd.moodys.settings import MoodysSettings

QUICK = RetryPolicy(max_attempts=2, base_delay=0.0, max_delay=0.0, max_elapsed=5.0)


def renderings(error: BaseException) -> list[str]:
    """Every way an error reaches an operator: str, repr, tracebacks (also with locals)."""
    trace = structlog.tracebacks.extract(type(error), error, error.__traceback__,
                                         show_locals=True)
    return [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        json.dumps(dataclasses.asdict(trace), default=repr),
        repr(vars(error)),
    ]


async def read_failure(settings: MoodysSettings, workflow_id: str) -> MoodysError:
    """The error of one status read; caught here so no test frame (holding the key as a
    fixture value) is part of its traceback."""
    async with MoodysClient(settings) as client:
        try:
            await client.get_workflow(workflow_id)
        except MoodysError as error:
            return error
    raise AssertionError("the read was expected to fail")


async def collect_failures(client: MoodysClient) -> list[BaseException]:
    failures: list[BaseException] = []
    attempts: list[Any] = [
        lambda: client.get_workflow("22800001"),
        lambda: client.get_workflows(["22800001"]),
        lambda: client.submit({"batch_type": "default", "metadata": {}}, workflow_name="LEAK_1",
                              request_id=uuid.uuid4()),
        lambda: client.cancel("22800001"),
        lambda: client.model_profile("No Such Profile"),
    ]
    for attempt in attempts:
        try:
            await attempt()
        except MoodysError as error:
            failures.append(error)
    return failures


@pytest.mark.parametrize("faults", [
    Faults(error_rate=1.0, error_statuses=(500, 503)),
    Faults(html_error_rate=1.0),
    Faults(rate_limit_rate=1.0, retry_after_seconds=0.0),
    Faults(drop_after_record_rate=1.0, methods=("POST",)),
    Faults(truncated_json_rate=1.0),
    None,
])
async def test_the_key_never_leaks(
    fake: FakeMoodys, settings_for: Any, api_key: str, faults: Faults | None
) -> None:
    settings = settings_for(fake, retry=QUICK)
    fake.set_faults(faults)
    with capture_logs() as logs:
        async with MoodysClient(settings) as client:
            failures = await collect_failures(client)
            fake.set_faults(None)
            result = await client.submit({"batch_type": "default", "metadata": {}},
                                         workflow_name="LEAK_2", request_id=uuid.uuid4())
            texts = [repr(client), repr(settings), str(settings), repr(client.stats()),
                     json.dumps(result.request), json.dumps(result.response), repr(result)]
    assert failures or faults is None
    for failure in failures:
        texts.extend(renderings(failure))
    texts.append(json.dumps(logs, default=repr))
    for text in texts:
        assert api_key not in text


async def test_wrong_keys_and_bearer_tokens_do_not_leak_either(
    fake: FakeMoodys, settings_for: Any
) -> None:
    wrong = "sk-wrong-KEY-55aa"
    settings = settings_for(fake, api_key=Secret(wrong), bearer_token=Secret("tok-" + wrong))
    with capture_logs() as logs:
        async with MoodysClient(settings) as client:
            failures = await collect_failures(client)
    assert failures
    texts = [text for failure in failures for text in renderings(failure)]
    texts.append(json.dumps(logs, default=repr))
    assert not [text for text in texts if wrong in text]


async def test_a_server_echoing_the_key_is_scrubbed(api_key: str) -> None:
    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {"code": "ECHO-1", "message": f"bad key {request.headers['Authorization']}"},
            status=400,
        )

    async def echo_html(request: web.Request) -> web.Response:
        return web.Response(text=f"<p>{request.headers['Authorization']}</p>", status=502)

    app = web.Application()
    app.router.add_get("/riskmodeler/v1/workflows/1", echo)
    app.router.add_get("/riskmodeler/v1/workflows/2", echo_html)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    settings = MoodysSettings(base_url=f"http://127.0.0.1:{port}", api_key=Secret(api_key),
                              retry=QUICK)
    try:
        for workflow_id in ("1", "2"):
            error = await read_failure(settings, workflow_id)
            assert "***" in str(error)
            assert all(api_key not in text for text in renderings(error))
    finally:
        await runner.cleanup()


async def test_connection_errors_do_not_leak(api_key: str) -> None:
    settings = MoodysSettings(base_url="http://127.0.0.1:9", api_key=Secret(api_key),
                              retry=QUICK)
    error = await read_failure(settings, "1")
    assert "MoodysConnectionError" in repr(type(error))
    assert all(api_key not in text for text in renderings(error))
