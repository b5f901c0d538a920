"""Uploading staged import files to the temporary S3 location Moody's hands out.

:class:`S3Uploader` reads files from one directory and PUTs each in a single request signed
with AWS Signature V4 (``UNSIGNED-PAYLOAD``, so the file is streamed, not hashed first) with
the temporary credentials of the storage registration. It uses its own HTTP session: Moody's
``Authorization`` header never goes to S3. Point it at the fake server and the PUT lands on
the fake's no-op ``/__fake__/s3/…`` route.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path
from typing import Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import aiohttp
from yarl import URL

from irpd.moodys.errors import MoodysConnectionError, MoodysServerError, MoodysTimeout, UploadError
from irpd.moodys.staging import UploadTarget

UNSIGNED_PAYLOAD: Final = "UNSIGNED-PAYLOAD"
DEFAULT_REGION: Final = "us-east-1"
MAX_SINGLE_PUT: Final = 5 * 1024**3


def s3_url(s3_path: str, region: str | None) -> str:
    """The object URL (path percent-encoded once) for an ``s3Path``: a URL, or
    ``[s3://]bucket/key``."""
    if s3_path.startswith(("https://", "http://")):
        parts = urlsplit(s3_path)
        path = quote(unquote(parts.path), safe="/~")
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    bucket, _, key = s3_path.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise UploadError("storage registration returned an s3Path without bucket and key")
    host = f"{bucket}.s3.{region}.amazonaws.com" if region else f"{bucket}.s3.amazonaws.com"
    return f"https://{host}/{quote(key, safe='/~')}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def sigv4_headers(
    method: str,
    url: str,
    *,
    region: str,
    access_key: str,
    secret_key: str,
    session_token: str | None,
    now: dt.datetime,
    payload_hash: str = UNSIGNED_PAYLOAD,
    extra: Mapping[str, str] | None = None,
    service: str = "s3",
) -> dict[str, str]:
    """Headers that sign one request (AWS Signature Version 4, header-based).

    ``url`` must already be percent-encoded once (as :func:`s3_url` returns it); it is sent
    as is.
    """
    parts = urlsplit(url)
    amz_date = now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    headers = {
        "host": parts.netloc,
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": amz_date,
        **{k.lower(): v.strip() for k, v in (extra or {}).items()},
    }
    if session_token:
        headers["x-amz-security-token"] = session_token
    names = sorted(headers)
    canonical = "\n".join(
        [
            method.upper(),
            parts.path or "/",
            parts.query,
            *(f"{name}:{headers[name]}" for name in names),
            "",
            ";".join(names),
            payload_hash,
        ]
    )
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(f"AWS4{secret_key}".encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed = {k: v for k, v in headers.items() if k != "host"}
    signed["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


class S3Uploader:
    """Import files from ``directory``, PUT to S3 with the registration's temporary keys."""

    def __init__(self, directory: Path, *, timeout: float = 900.0, verify_tls: bool = True) -> None:
        self._directory = directory
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=30.0)
        self._verify_tls = verify_tls
        self._session: aiohttp.ClientSession | None = None

    def _path(self, file_name: str) -> Path:
        if not file_name or Path(file_name).name != file_name:
            raise UploadError(f"import file name {file_name!r} must be a plain file name")
        path = self._directory / file_name
        if not path.is_file():
            raise UploadError(f"import file {file_name!r} not found in {self._directory}")
        return path

    async def file_size(self, file_name: str) -> int:
        """Size in bytes (files above 5 GiB need a multipart upload, not supported)."""
        size = self._path(file_name).stat().st_size
        if size > MAX_SINGLE_PUT:
            raise UploadError(f"import file {file_name!r} exceeds the 5 GiB single-PUT limit")
        return size

    async def upload(self, file_name: str, target: UploadTarget | None) -> None:
        """PUT the file; network failures and 5xx are retryable, other statuses permanent."""
        if target is None:
            raise UploadError(
                "the storage registration carried no upload credentials (a replay without a "
                "body?); resubmit the job with a new request id"
            )
        path = self._path(file_name)
        url = s3_url(target.s3_path, target.s3_region)
        token = target.session_token
        headers = sigv4_headers(
            "PUT",
            url,
            region=target.s3_region or DEFAULT_REGION,
            access_key=target.access_key_id.reveal(),
            secret_key=target.secret_access_key.reveal(),
            session_token=token.reveal() if token is not None else None,
            now=dt.datetime.now(dt.UTC),
        )
        headers["Content-Length"] = str(path.stat().st_size)
        where = urlsplit(url).path
        failure: Exception | None = None
        try:
            with path.open("rb") as stream:
                async with self._client().put(
                    URL(url, encoded=True), data=stream, headers=headers
                ) as response:
                    status, text = response.status, (await response.text())[:200]
        except TimeoutError:
            failure = MoodysTimeout("S3 upload timed out", method="PUT", path=where)
        except (aiohttp.ClientError, OSError) as exc:
            failure = MoodysConnectionError(
                f"S3 upload failed ({type(exc).__name__})", method="PUT", path=where
            )
        if failure is not None:
            raise failure
        if status >= 500:
            raise MoodysServerError(f"S3 upload answered {status}", method="PUT", path=where)
        if status >= 300:
            raise UploadError(f"S3 upload of {file_name!r} refused with {status}: {text!r}")

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=4, ssl=self._verify_tls)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        """Close the upload session."""
        if self._session is not None:
            await self._session.close()
