"""The real S3 uploader: against the fake's no-op S3 route, and against a capturing server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import MoodysServerError, UploadError
from irpd.moodys.fake import FakeMoodys
from irpd.moodys.s3upload import S3Uploader
from irpd.moodys.secret import Secret
from irpd.moodys.staging import UploadTarget

CONFIG = {"batch_type": "mri_import", "metadata": {}, "database": "RM_EDM_202503_X",
          "portfolio": "PORT_A", "import_file": "F", "accounts_file": "acc.txt",
          "locations_file": "loc.txt"}


async def test_mri_import_uploads_real_files_to_the_fake(
    fake: FakeMoodys, settings_for: Any, tmp_path: Path
) -> None:
    (tmp_path / "acc.txt").write_bytes(b"A" * 1234)
    (tmp_path / "loc.txt").write_bytes(b"L" * 99)
    async with MoodysClient(settings_for(fake), uploader=S3Uploader(tmp_path)) as client:
        result = await client.submit(CONFIG, workflow_name="MRI_S3", request_id=uuid.uuid4())
    assert result.workflow_id is not None
    sizes = [e.body["fileSize"] for e in fake.ledger if e.operation == "register_file"]
    assert sizes == [1234, 99]


async def test_a_missing_file_fails_before_anything_is_created(
    fake: FakeMoodys, settings_for: Any, tmp_path: Path
) -> None:
    (tmp_path / "acc.txt").write_bytes(b"A")
    async with MoodysClient(settings_for(fake), uploader=S3Uploader(tmp_path)) as with_files:
        with pytest.raises(UploadError, match=r"loc\.txt"):
            await with_files.submit(CONFIG, workflow_name="MRI_S3", request_id=uuid.uuid4())
    assert fake.ledger == []


@pytest.fixture
async def capture() -> Any:
    seen: list[dict[str, Any]] = []
    answer = {"status": 200}

    async def put(request: web.Request) -> web.Response:
        seen.append({"path": request.raw_path, "headers": dict(request.headers),
                     "body": await request.read()})
        return web.Response(status=answer["status"], text="<Error>nope</Error>")

    app = web.Application()
    app.router.add_put("/{tail:.*}", put)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen, answer
    await runner.cleanup()


async def test_the_put_is_signed_with_the_temporary_keys_only(
    capture: Any, tmp_path: Path, api_key: str
) -> None:
    base, seen, answer = capture
    (tmp_path / "acc file.txt").write_bytes(b"accounts\n")
    target = UploadTarget(
        s3_path=f"{base}/bucket/prefix/acc file.txt", s3_region="eu-west-1",
        access_key_id=Secret("ASIATEMP"), secret_access_key=Secret("temp-secret"),
        session_token=Secret("temp-token"),
    )
    uploader = S3Uploader(tmp_path)
    try:
        await uploader.upload("acc file.txt", target)
        [request] = seen
        assert request["path"] == "/bucket/prefix/acc%20file.txt"
        assert request["body"] == b"accounts\n"
        headers = request["headers"]
        assert headers["Authorization"].startswith(
            "AWS4-HMAC-SHA256 Credential=ASIATEMP/")
        assert "/eu-west-1/s3/aws4_request" in headers["Authorization"]
        assert headers["x-amz-security-token"] == "temp-token"
        assert api_key not in repr(headers)
        answer["status"] = 403
        with pytest.raises(UploadError, match="403"):
            await uploader.upload("acc file.txt", target)
        answer["status"] = 503
        with pytest.raises(MoodysServerError):
            await uploader.upload("acc file.txt", target)
    finally:
        await uploader.close()
