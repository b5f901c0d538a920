"""Staging import files: storage bucket, file registration, the upload step.

The upload itself is pluggable (:class:`ImportFileUploader`): the fake server accepts an S3
"upload" as a no-op, so tests and dry runs use :class:`SkipUpload`; production plugs an
uploader that PUTs the file to the temporary S3 location Moody's returns.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from irpd.moodys import operations
from irpd.moodys.errors import UploadError
from irpd.moodys.secret import Secret
from irpd.moodys.transport import HttpResponse, Transport


@dataclass(frozen=True, slots=True)
class UploadTarget:
    """Where and with which temporary credentials one file goes (decoded from base64)."""

    s3_path: str
    s3_region: str | None
    access_key_id: Secret
    secret_access_key: Secret
    session_token: Secret | None


class ImportFileUploader(Protocol):
    """Supplies import files: their size before registration, their bytes to the target."""

    async def file_size(self, file_name: str) -> int:
        """Size in bytes of ``file_name``."""
        ...

    async def upload(self, file_name: str, target: UploadTarget | None) -> None:
        """Put ``file_name`` at ``target`` (``None`` when a replayed registration had no body)."""
        ...


@runtime_checkable
class SupportsClose(Protocol):
    """An uploader that holds resources (closed with the client)."""

    async def close(self) -> None:
        """Release them."""
        ...


class SkipUpload:
    """No upload: for the fake server and dry runs (sizes from a directory when given)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    async def file_size(self, file_name: str) -> int:
        """The file's size when it exists under the directory, else 0."""
        if self._directory is None:
            return 0
        path = self._directory / file_name
        return path.stat().st_size if path.is_file() else 0

    async def upload(self, file_name: str, target: UploadTarget | None) -> None:
        """Nothing to do."""


@dataclass(frozen=True, slots=True)
class StagedFiles:
    """Ids of a staged account/location file pair, and the records of the steps."""

    bucket_id: str
    accounts_file_id: str
    locations_file_id: str
    steps: list[dict[str, Any]] = field(default_factory=list)


def step_key(request_id: uuid.UUID, step: str) -> uuid.UUID:
    """The idempotency key of a sub-step, derived from the submission's key."""
    return uuid.uuid5(request_id, step)


def upload_target(body: object) -> UploadTarget | None:
    """Decode the temporary credentials of a file registration (``None`` if absent)."""
    if not isinstance(body, Mapping) or "s3Path" not in body:
        return None
    try:
        token = body.get("sessionToken")
        return UploadTarget(
            s3_path=_decoded(body["s3Path"]),
            s3_region=_decoded(body["s3Region"]) if body.get("s3Region") else None,
            access_key_id=Secret(_decoded(body["accessKeyId"])),
            secret_access_key=Secret(_decoded(body["secretAccessKey"])),
            session_token=Secret(_decoded(token)) if token else None,
        )
    except (KeyError, TypeError, ValueError):
        raise UploadError("storage registration returned unusable upload credentials") from None


def _decoded(value: object) -> str:
    """Base64-decoded text [O]; values that are not base64 are taken as they are."""
    text = str(value)
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return text
    return decoded if decoded.isprintable() else text


async def stage_import_files(
    transport: Transport,
    uploader: ImportFileUploader,
    *,
    request_id: uuid.UUID,
    accounts_file: str,
    locations_file: str,
) -> StagedFiles:
    """Create a bucket, register and upload both files; every POST has a derived key.

    File sizes are read first, so a missing file fails before anything is created.
    """
    files = (("account", accounts_file), ("location", locations_file))
    sizes = {file_type: await uploader.file_size(name) for file_type, name in files}
    steps: list[dict[str, Any]] = []
    bucket = await _post(
        transport, operations.create_storage_bucket(), step_key(request_id, "storage")
    )
    steps.append(_step_record("storage", bucket))
    bucket_id = bucket.location_id()
    file_ids: dict[str, str] = {}
    for file_type, file_name in files:
        spec = operations.register_storage_file(
            bucket_id, file_name=file_name, file_type=file_type, file_size=sizes[file_type]
        )
        response = await _post(transport, spec, step_key(request_id, f"storage-file:{file_type}"))
        steps.append(_step_record(f"storage-file:{file_type}", response))
        file_ids[file_type] = response.location_id()
        body = response.json() if response.body.strip() else None
        await uploader.upload(file_name, upload_target(body))
    return StagedFiles(bucket_id, file_ids["account"], file_ids["location"], steps)


async def _post(transport: Transport, spec: operations.RequestSpec, key: uuid.UUID) -> HttpResponse:
    return await transport.request(
        spec.method, spec.path, params=spec.params, body=spec.body, request_id=key
    )


def _step_record(step: str, response: HttpResponse) -> dict[str, Any]:
    return {"step": step, "request": response.request, "response": response.record()}
