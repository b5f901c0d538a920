"""What each helper asks the HTTP API and how it shapes the answer (pure: no I/O), shared by
the synchronous :class:`~irpd.client.sync.Client` and the :class:`~irpd.client.aio.AsyncClient`.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from irpd.errors import (
    BatchError,
    ConfigurationError,
    CycleError,
    DomainError,
    IrpdError,
    JobError,
    RetryableError,
)

T = TypeVar("T")
#: rows per page when a helper collects a whole listing
PAGE = 1000
#: the reason recorded when ``skip_job(job_id)`` is called without one, as the old helper was
DEFAULT_SKIP_REASON = "skipped with irpd.client skip_job() (no reason given)"


class ApiError(IrpdError):
    """The API answered with an error that is not a domain refusal."""

    kind = "ApiError"

    def __init__(self, status: int, kind: str, message: str, details: Any = None) -> None:
        super().__init__(f"{kind}: {message}" if kind else message)
        self.status = status
        self.error_type = kind
        self.details = details


class Unavailable(ApiError, RetryableError):
    """The console or its database is unreachable, or the object moved meanwhile: nothing
    changed, try again."""

    kind = "Unavailable"


_DOMAIN: Mapping[str, type[DomainError]] = {
    "CycleError": CycleError,
    "ConfigurationError": ConfigurationError,
    "BatchError": BatchError,
    "JobError": JobError,
}


def raise_for(status: int, body: Any) -> None:
    """Raise the error an API answer stands for (domain errors as irpd's own classes)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise (Unavailable if status >= 500 else ApiError)(status, "", f"HTTP {status}")
    kind, message = str(error.get("type", "")), str(error.get("message", ""))
    details = error.get("details")
    domain = _DOMAIN.get(kind)
    if domain is not None:
        exc = domain(message)
        if isinstance(details, dict) and "problems" in details:
            exc.problems = details["problems"]  # type: ignore[attr-defined]
        raise exc
    if status >= 500:
        raise Unavailable(status, kind, message, details)
    raise ApiError(status, kind, message, details)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API request and the shaping of its JSON answer."""

    method: str
    path: str
    shape: Callable[[Any], T]
    body: dict[str, Any] | None = None
    query: dict[str, str] = field(default_factory=dict)


def _same(value: Any) -> Any:
    return value


def _bool(value: bool | None) -> dict[str, str]:
    return {} if value is None else {"skipped": "true" if value else "false"}


def _page_query(after: str | None, extra: Mapping[str, str]) -> dict[str, str]:
    query = {"limit": str(PAGE), **extra}
    if after:
        query["after"] = after
    return query


# --- cycles and configurations -------------------------------------------------------


def create_cycle(cycle_name: str) -> Call[dict[str, Any]]:
    return Call("POST", "/cycles", _same, {"name": cycle_name})


def list_cycles() -> Call[list[dict[str, Any]]]:
    return Call("GET", "/cycles", lambda r: list(r["cycles"]))


def read_cycle(cycle_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"/cycles/{int(cycle_id)}", _same)


def load_configuration_file(
    cycle: str, excel_config_path: str | Path, register: bool = True
) -> Call[Any]:
    """Register (→ the configuration id) or validate (``register=False`` → the report)."""
    path = Path(excel_config_path)
    body = {
        "cycle": cycle,
        "filename": path.name,
        "content_b64": base64.b64encode(path.read_bytes()).decode("ascii"),
        "dry_run": not register,
    }
    return Call(
        "POST",
        "/configurations",
        (lambda r: int(r["configuration_id"])) if register else _same,
        body,
    )


def read_configuration(configuration_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"/configurations/{int(configuration_id)}", _same)


# --- batches ----------------------------------------------------------------------------


def create_batch(batch_type: str, configuration_id: int, step_id: int | None = None) -> Call[int]:
    body: dict[str, Any] = {"batch_type": batch_type, "configuration_id": configuration_id}
    if step_id is not None:
        body["step_id"] = step_id
    return Call("POST", "/batches", lambda r: int(r["batch_id"]), body)


def submit_batch(batch_id: int) -> Call[dict[str, Any]]:
    return Call("POST", f"/batches/{int(batch_id)}/submit", _same, {})


def recon_batch(batch_id: int) -> Call[str]:
    return Call("POST", f"/batches/{int(batch_id)}/recon", lambda r: str(r["status"]), {})


def read_batch(batch_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"/batches/{int(batch_id)}", _same)


def batch_jobs_page(
    batch_id: int, after: str | None, skipped: bool | None = None, status: str | None = None
) -> Call[dict[str, Any]]:
    extra = {**_bool(skipped), **({"status": status} if status else {})}
    return Call("GET", f"/batches/{int(batch_id)}/jobs", _same, None, _page_query(after, extra))


def batch_configs_page(
    batch_id: int, after: str | None, skipped: bool | None = None
) -> Call[dict[str, Any]]:
    return Call(
        "GET",
        f"/batches/{int(batch_id)}/job-configurations",
        _same,
        None,
        _page_query(after, _bool(skipped)),
    )


# --- jobs -------------------------------------------------------------------------------


def create_job(
    batch_id: int,
    configuration_id: int,
    job_configuration_id: int | None = None,
    job_configuration_data: dict[str, Any] | None = None,
) -> Call[int]:
    body: dict[str, Any] = {"batch_id": batch_id, "configuration_id": configuration_id}
    if job_configuration_id is not None:
        body["job_configuration_id"] = job_configuration_id
    if job_configuration_data is not None:
        body["job_configuration_data"] = job_configuration_data
    return Call("POST", "/jobs", lambda r: int(r["id"] if "id" in r else r["job_id"]), body)


def read_job(job_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"/jobs/{int(job_id)}", _same)


def get_job_config(job_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"/jobs/{int(job_id)}/configuration", _same)


def job_history(job_id: int) -> Call[dict[str, Any]]:
    return Call("GET", f"/jobs/{int(job_id)}/history", _same)


def submit_job(job_id: int, force: bool = False) -> Call[dict[str, Any]]:
    return Call("POST", f"/jobs/{int(job_id)}/submit", _same, {"force": force})


def track_job_status(job_id: int) -> Call[str]:
    """The job's status as the daemon last tracked it (the daemon polls Moody's itself)."""
    return Call("GET", f"/jobs/{int(job_id)}", lambda r: str(r["status"]))


def resubmit_job(
    job_id: int,
    job_configuration_data: dict[str, Any] | None = None,
    override_reason: str | None = None,
    submit: bool = False,
) -> Call[int]:
    body: dict[str, Any] = {"submit": submit}
    if job_configuration_data is not None:
        body["override"] = job_configuration_data
    if override_reason is not None:
        body["reason"] = override_reason
    return Call("POST", f"/jobs/{int(job_id)}/resubmit", lambda r: int(r["job_id"]), body)


def skip_job(job_id: int, reason: str | None = None) -> Call[dict[str, Any]]:
    body = {"reason": reason if reason is not None else DEFAULT_SKIP_REASON}
    return Call("POST", f"/jobs/{int(job_id)}/skip", _same, body)


def cancel_job(job_id: int, reason: str | None = None) -> Call[dict[str, Any]]:
    body = {} if reason is None else {"reason": reason}
    return Call("POST", f"/jobs/{int(job_id)}/cancel", _same, body)


def force_ok_job(job_id: int, reason: str) -> Call[dict[str, Any]]:
    return Call("POST", f"/jobs/{int(job_id)}/force-ok", _same, {"reason": reason})


def attention() -> Call[dict[str, Any]]:
    return Call("GET", "/attention", _same)
