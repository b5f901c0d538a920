"""AWS Signature V4 for the S3 upload, checked against AWS's published PUT Object example."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from irpd.moodys.errors import UploadError
from irpd.moodys.s3upload import S3Uploader, s3_url, sigv4_headers


def test_sigv4_matches_the_aws_put_object_example() -> None:
    headers = sigv4_headers(
        "PUT",
        s3_url("https://examplebucket.s3.amazonaws.com/test$file.text", None),
        region="us-east-1",
        access_key="AKIAIOSFODNN7EXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        session_token=None,
        now=dt.datetime(2013, 5, 24, tzinfo=dt.UTC),
        payload_hash="44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        extra={"Date": "Fri, 24 May 2013 00:00:00 GMT",
               "x-amz-storage-class": "REDUCED_REDUNDANCY"},
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, "
        "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
    )
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert "host" not in headers


def test_session_token_is_signed() -> None:
    headers = sigv4_headers("PUT", "https://b.s3.amazonaws.com/k", region="eu-west-1",
                            access_key="AK", secret_key="SK", session_token="TOKEN",
                            now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert headers["x-amz-security-token"] == "TOKEN"
    assert "x-amz-security-token" in headers["Authorization"]
    assert headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"


@pytest.mark.parametrize(("s3_path", "region", "expected"), [
    ("bucket/dir/a b.txt", "eu-west-1", "https://bucket.s3.eu-west-1.amazonaws.com/dir/a%20b.txt"),
    ("s3://bucket/k", None, "https://bucket.s3.amazonaws.com/k"),
    ("http://127.0.0.1:8/__fake__/s3/1/2/a%20b.txt", None,
     "http://127.0.0.1:8/__fake__/s3/1/2/a%20b.txt"),
])
def test_s3_url(s3_path: str, region: str | None, expected: str) -> None:
    assert s3_url(s3_path, region) == expected


def test_s3_url_needs_bucket_and_key() -> None:
    with pytest.raises(UploadError):
        s3_url("bucket-only", None)


async def test_uploader_reads_only_plain_names_in_its_directory(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("12345")
    uploader = S3Uploader(tmp_path)
    assert await uploader.file_size("a.txt") == 5
    for bad in ("../a.txt", "sub/a.txt", "", "missing.txt"):
        with pytest.raises(UploadError):
            await uploader.file_size(bad)
    with pytest.raises(UploadError, match="no upload credentials"):
        await uploader.upload("a.txt", None)
    await uploader.close()
