"""JSON-ready records of requests and responses, safe to store.

Records never hold the ``Authorization`` header (it is not given to them) and replace the
values of credential-like JSON fields (e.g. the temporary S3 keys of a storage response) with
``***``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from irpd.moodys.responses import decode_json, excerpt
from irpd.moodys.secret import REDACTED

SENSITIVE_FIELDS: Final = frozenset(
    {
        "accesskeyid",
        "secretaccesskey",
        "sessiontoken",
        "password",
        "accesstoken",
        "refreshtoken",
        "authorization",
        "apikey",
        "presignparams",
    }
)
RECORDED_RESPONSE_HEADERS: Final = ("Location", "Content-Type", "Warning", "X-RMS-Warning")


def redact(value: Any) -> Any:
    """A copy of a JSON value with credential-like fields replaced by ``***``."""
    if isinstance(value, Mapping):
        return {
            key: REDACTED if str(key).lower() in SENSITIVE_FIELDS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def request_record(
    method: str,
    path: str,
    *,
    params: Mapping[str, str] | None,
    body: Any,
    headers: Mapping[str, str],
) -> dict[str, Any]:
    """A stored form of a request; ``headers`` must already exclude ``Authorization``."""
    safe_headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    return {
        "method": method,
        "path": path,
        "params": dict(params) if params else {},
        "headers": safe_headers,
        "body": redact(body),
    }


def response_record(
    status: int, headers: Mapping[str, str], body: bytes, *, workflow_id: str | None = None
) -> dict[str, Any]:
    """A stored form of a response: status, a few headers, the (redacted) JSON or an excerpt."""
    kept = {name: headers[name] for name in RECORDED_RESPONSE_HEADERS if name in headers}
    record: dict[str, Any] = {"status": status, "headers": kept}
    if body.strip():
        try:
            record["body"] = redact(decode_json(body))
        except ValueError:
            record["body_excerpt"] = excerpt(body)
    if workflow_id is not None:
        record["workflow_id"] = workflow_id
    return record
