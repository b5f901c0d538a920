"""The synchronous client: the old notebook helpers over the console's HTTP API (stdlib only,
so it works in any notebook, event loop or not)."""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, TypeVar

from irpd.client import calls
from irpd.client.calls import ApiError, Call, Unavailable

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8457"
TERMINAL_BATCH = ("COMPLETED", "FAILED", "CANCELLED")


def settings(url: str | None, token: str | None) -> tuple[str, str | None]:
    """``url`` (else ``$IRPD_URL``, else the console's default) and ``token`` (else
    ``$IRPD_TOKEN``)."""
    base = (url or os.environ.get("IRPD_URL") or DEFAULT_URL).rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise ValueError(f"url must be http(s)://…, got {base!r}")
    return base, token or os.environ.get("IRPD_TOKEN") or None


class Client:
    """``Client(url, token)``: every helper of the spec with its name, arguments and result,
    raising :class:`~irpd.errors.BatchError`, :class:`~irpd.errors.JobError`,
    :class:`~irpd.errors.ConfigurationError` (and ``CycleError``) when the domain refuses."""

    def __init__(
        self, url: str | None = None, token: str | None = None, *, timeout: float = 60.0
    ) -> None:
        self.url, self._token = settings(url, token)
        self.timeout = timeout

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def __repr__(self) -> str:
        return f"Client({self.url!r})"  # never the token

    def _do(self, call: Call[T]) -> T:
        target = f"{self.url}/api/v1{call.path}"
        if call.query:
            target += "?" + urllib.parse.urlencode(call.query)
        data = json.dumps(call.body).encode() if call.body is not None else None
        request = urllib.request.Request(target, data=data, method=call.method)  # noqa: S310
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self._token:
            request.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                return call.shape(json.loads(answer.read()))
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
            calls.raise_for(exc.code, body)
            raise  # unreachable: raise_for always raises
        except (urllib.error.URLError, OSError) as exc:
            raise Unavailable(0, "Unreachable", f"{self.url}: {exc}") from None

    def _all(self, make: Any, key: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page = self._do(make(after))
            rows.extend(page[key])
            after = page.get("next")
            if not after:
                return rows

    # --- cycles and configurations -----------------------------------------------------
    def create_cycle(self, cycle_name: str) -> dict[str, Any]:
        """Create the ACTIVE cycle (the previous one is archived)."""
        return self._do(calls.create_cycle(cycle_name))

    def list_cycles(self) -> list[dict[str, Any]]:
        """Every cycle with its progress."""
        return self._do(calls.list_cycles())

    def load_configuration_file(
        self, cycle_id: int | str, excel_config_path: str | Path, register: bool = True
    ) -> Any:
        """Register a workbook (→ the configuration id) or only validate it
        (``register=False`` → ``{valid, problems, …}``); ``cycle_id`` is an id or a name."""
        cycle = self._cycle_name(cycle_id)
        return self._do(calls.load_configuration_file(cycle, excel_config_path, register))

    def read_configuration(self, configuration_id: int) -> dict[str, Any]:
        """A configuration with its ``configuration_data``."""
        return self._do(calls.read_configuration(configuration_id))

    def _cycle_name(self, cycle: int | str) -> str:
        if isinstance(cycle, int) and not isinstance(cycle, bool):
            return str(self._do(calls.read_cycle(cycle))["cycle_name"])
        return str(cycle)

    # --- batches ------------------------------------------------------------------------
    def create_batch(
        self, batch_type: str, configuration_id: int, step_id: int | None = None
    ) -> int:
        """Create a batch and its jobs; the batch id."""
        return self._do(calls.create_batch(batch_type, configuration_id, step_id))

    def submit_batch(self, batch_id: int) -> dict[str, Any]:
        """Queue the batch's jobs (the daemon submits them)."""
        return self._do(calls.submit_batch(batch_id))

    def recon_batch(self, batch_id: int) -> str:
        """Reconcile now; the batch's status."""
        return self._do(calls.recon_batch(batch_id))

    def read_batch(self, batch_id: int) -> dict[str, Any]:
        """The batch with its ``report``."""
        return self._do(calls.read_batch(batch_id))

    def get_batch_jobs(
        self, batch_id: int, skipped: bool | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Every job of the batch (read a page at a time)."""
        return self._all(lambda a: calls.batch_jobs_page(batch_id, a, skipped, status), "jobs")

    def get_batch_job_configurations(
        self, batch_id: int, skipped: bool | None = None
    ) -> list[dict[str, Any]]:
        """Every job configuration of the batch."""
        make = lambda a: calls.batch_configs_page(batch_id, a, skipped)  # noqa: E731
        return self._all(make, "job_configurations")

    def wait_batch(self, batch_id: int, timeout: float = 3600.0, every: float = 2.0) -> str:
        """Until the batch is COMPLETED, FAILED or CANCELLED (its status); ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while True:
            status = str(self.read_batch(batch_id)["status"])
            if status in TERMINAL_BATCH:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"batch {batch_id} still {status} after {timeout:g} s")
            time.sleep(every)

    # --- jobs ---------------------------------------------------------------------------
    def create_job(
        self,
        batch_id: int,
        configuration_id: int,
        job_configuration_id: int | None = None,
        job_configuration_data: dict[str, Any] | None = None,
    ) -> int:
        """Add a job (exactly one of the two); the job id."""
        return self._do(
            calls.create_job(
                batch_id, configuration_id, job_configuration_id, job_configuration_data
            )
        )

    def read_job(self, job_id: int) -> dict[str, Any]:
        """One job."""
        return self._do(calls.read_job(job_id))

    def get_job_config(self, job_id: int) -> dict[str, Any]:
        """The job's job configuration."""
        return self._do(calls.get_job_config(job_id))

    def job_history(self, job_id: int) -> dict[str, Any]:
        """Job, configuration, tracking log, lineage (with override diffs)."""
        return self._do(calls.job_history(job_id))

    def submit_job(self, job_id: int, force: bool = False) -> dict[str, Any]:
        """Queue one job for submission."""
        return self._do(calls.submit_job(job_id, force))

    def track_job_status(self, job_id: int) -> str:
        """The job's status as the daemon last tracked it."""
        return self._do(calls.track_job_status(job_id))

    def resubmit_job(
        self,
        job_id: int,
        job_configuration_data: dict[str, Any] | None = None,
        override_reason: str | None = None,
        *,
        submit: bool = False,
    ) -> int:
        """Replace a job by a new one (optionally with an override); the new job's id."""
        return self._do(calls.resubmit_job(job_id, job_configuration_data, override_reason, submit))

    def skip_job(self, job_id: int, reason: str | None = None) -> dict[str, Any]:
        """Skip a job (a reason is recorded; a default one when none is given)."""
        return self._do(calls.skip_job(job_id, reason))

    def cancel_job(self, job_id: int, reason: str | None = None) -> dict[str, Any]:
        """Cancel a job (at once when not yet submitted)."""
        return self._do(calls.cancel_job(job_id, reason))

    def force_ok_job(self, job_id: int, reason: str) -> dict[str, Any]:
        """Declare a job done."""
        return self._do(calls.force_ok_job(job_id, reason))

    def attention(self) -> dict[str, Any]:
        """Batches and jobs waiting for an operator."""
        return self._do(calls.attention())


__all__ = ["ApiError", "Client", "Unavailable"]
