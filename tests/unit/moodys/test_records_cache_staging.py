"""Stored records are redacted; the TTL cache coalesces; upload credentials decode."""

from __future__ import annotations

import asyncio
import base64
import uuid

import pytest
from multidict import CIMultiDict

from irpd.moodys.cache import AsyncTtlCache
from irpd.moodys.errors import UploadError
from irpd.moodys.records import redact, request_record, response_record
from irpd.moodys.staging import step_key, upload_target


def test_request_record_drops_authorization() -> None:
    record = request_record(
        "POST",
        "/p",
        params={"a": "1"},
        body={"x": 1},
        headers={"Authorization": "key", "X-RMS-RequestId": "u"},
    )
    assert record == {
        "method": "POST",
        "path": "/p",
        "params": {"a": "1"},
        "headers": {"X-RMS-RequestId": "u"},
        "body": {"x": 1},
    }


def test_response_record_redacts_credentials() -> None:
    body = b'{"accessKeyId":"AK","secretAccessKey":"SK","sessionToken":"T","s3Path":"b/k"}'
    headers = CIMultiDict({"Location": "/x/1", "Set-Cookie": "c"})
    record = response_record(201, headers, body, workflow_id="1")
    assert record["body"] == {
        "accessKeyId": "***",
        "secretAccessKey": "***",
        "sessionToken": "***",
        "s3Path": "b/k",
    }
    assert record["headers"] == {"Location": "/x/1"}
    assert record["workflow_id"] == "1"


def test_response_record_of_non_json() -> None:
    assert response_record(502, {}, b"<h1>Bad</h1>")["body_excerpt"] == "Bad"
    assert "body" not in response_record(202, {}, b"")


def test_redact_nested() -> None:
    assert redact([{"inner": {"Password": "p", "ok": 1}}]) == [
        {"inner": {"Password": "***", "ok": 1}}
    ]


async def test_cache_coalesces_and_expires() -> None:
    now = [0.0]
    cache: AsyncTtlCache[str, int] = AsyncTtlCache(ttl=10, max_size=2, clock=lambda: now[0])
    calls = []

    async def load() -> int:
        calls.append(1)
        await asyncio.sleep(0)
        return len(calls)

    results = await asyncio.gather(*(cache.get_or_load("a", load) for _ in range(5)))
    assert results == [1] * 5
    assert len(calls) == 1
    now[0] = 11.0
    assert await cache.get_or_load("a", load) == 2


async def test_cache_does_not_keep_failures_and_is_bounded() -> None:
    cache: AsyncTtlCache[str, int] = AsyncTtlCache(ttl=10, max_size=2)

    async def fail() -> int:
        raise ValueError("boom")

    async def one() -> int:
        return 1

    with pytest.raises(ValueError, match="boom"):
        await cache.get_or_load("x", fail)
    assert await cache.get_or_load("x", one) == 1
    for key in "abcd":
        await cache.get_or_load(key, one)
    assert len(cache) == 2


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_upload_target_decodes_base64_and_hides_secrets() -> None:
    target = upload_target(
        {
            "accessKeyId": b64("AKIA1"),
            "secretAccessKey": b64("SECRET"),
            "sessionToken": b64("TOKEN"),
            "s3Path": b64("bucket/key/file"),
            "s3Region": b64("eu-west-1"),
        }
    )
    assert target is not None
    assert target.s3_path == "bucket/key/file"
    assert target.s3_region == "eu-west-1"
    assert target.secret_access_key.reveal() == "SECRET"
    assert "SECRET" not in repr(target)


def test_upload_target_absent_or_unusable() -> None:
    assert upload_target(None) is None
    assert upload_target({}) is None
    with pytest.raises(UploadError):
        upload_target({"s3Path": "p"})


def test_step_keys_are_stable_and_distinct() -> None:
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert step_key(key, "storage") == step_key(key, "storage")
    assert step_key(key, "storage") != step_key(key, "storage-file:account")
