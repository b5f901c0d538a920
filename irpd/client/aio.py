"""The asynchronous client (aiohttp): the same helpers as :class:`~irpd.client.sync.Client`,
as coroutines, for asyncio programs. Use it as ``async with AsyncClient(url, token) as irpd:``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from irpd.client import calls
from irpd.client.calls import Call, Unavailable
from irpd.client.sync import TERMINAL_BATCH, settings

T = TypeVar("T")
Page = Callable[[str | None], Call[dict[str, Any]]]


class AsyncClient:
    """The helpers as coroutines; errors as in :class:`~irpd.client.sync.Client`."""

    def __init__(
        self, url: str | None = None, token: str | None = None, *, timeout: float = 60.0
    ) -> None:
        self.url, self._token = settings(url, token)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def __repr__(self) -> str:
        return f"AsyncClient({self.url!r})"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _do(self, call: Call[T]) -> T:
        if self._session is None:
            headers = {"Accept": "application/json"}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            self._session = aiohttp.ClientSession(headers=headers, timeout=self._timeout)
        try:
            async with self._session.request(
                call.method,
                f"{self.url}/api/v1{call.path}",
                json=call.body,
                params=call.query or None,
            ) as answer:
                try:
                    body = await answer.json(content_type=None)
                except ValueError:
                    body = None
                if answer.status >= 400:
                    calls.raise_for(answer.status, body)
                return call.shape(body)
        except (aiohttp.ClientConnectionError, TimeoutError) as exc:
            raise Unavailable(0, "Unreachable", f"{self.url}: {exc}") from None

    async def _all(self, make: Page, key: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            page = await self._do(make(after))
            rows.extend(page[key])
            after = page.get("next")
            if not after:
                return rows

    async def create_cycle(self, cycle_name: str) -> dict[str, Any]:
        return await self._do(calls.create_cycle(cycle_name))

    async def list_cycles(self) -> list[dict[str, Any]]:
        return await self._do(calls.list_cycles())

    async def load_configuration_file(
        self, cycle_id: int | str, excel_config_path: str | Path, register: bool = True
    ) -> Any:
        cycle = str(cycle_id)
        if isinstance(cycle_id, int) and not isinstance(cycle_id, bool):
            cycle = str((await self._do(calls.read_cycle(cycle_id)))["cycle_name"])
        return await self._do(calls.load_configuration_file(cycle, excel_config_path, register))

    async def read_configuration(self, configuration_id: int) -> dict[str, Any]:
        return await self._do(calls.read_configuration(configuration_id))

    async def create_batch(
        self, batch_type: str, configuration_id: int, step_id: int | None = None
    ) -> int:
        return await self._do(calls.create_batch(batch_type, configuration_id, step_id))

    async def submit_batch(self, batch_id: int) -> dict[str, Any]:
        return await self._do(calls.submit_batch(batch_id))

    async def recon_batch(self, batch_id: int) -> str:
        return await self._do(calls.recon_batch(batch_id))

    async def read_batch(self, batch_id: int) -> dict[str, Any]:
        return await self._do(calls.read_batch(batch_id))

    async def get_batch_jobs(
        self, batch_id: int, skipped: bool | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        return await self._all(
            lambda a: calls.batch_jobs_page(batch_id, a, skipped, status), "jobs"
        )

    async def get_batch_job_configurations(
        self, batch_id: int, skipped: bool | None = None
    ) -> list[dict[str, Any]]:
        return await self._all(
            lambda a: calls.batch_configs_page(batch_id, a, skipped), "job_configurations"
        )

    async def wait_batch(self, batch_id: int, timeout: float = 3600.0, every: float = 2.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            status = str((await self.read_batch(batch_id))["status"])
            if status in TERMINAL_BATCH:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"batch {batch_id} still {status} after {timeout:g} s")
            await asyncio.sleep(every)

    async def create_job(
        self,
        batch_id: int,
        configuration_id: int,
        job_configuration_id: int | None = None,
        job_configuration_data: dict[str, Any] | None = None,
    ) -> int:
        return await self._do(
            calls.create_job(
                batch_id, configuration_id, job_configuration_id, job_configuration_data
            )
        )

    async def read_job(self, job_id: int) -> dict[str, Any]:
        return await self._do(calls.read_job(job_id))

    async def get_job_config(self, job_id: int) -> dict[str, Any]:
        return await self._do(calls.get_job_config(job_id))

    async def job_history(self, job_id: int) -> dict[str, Any]:
        return await self._do(calls.job_history(job_id))

    async def submit_job(self, job_id: int, force: bool = False) -> dict[str, Any]:
        return await self._do(calls.submit_job(job_id, force))

    async def track_job_status(self, job_id: int) -> str:
        return await self._do(calls.track_job_status(job_id))

    async def resubmit_job(
        self,
        job_id: int,
        job_configuration_data: dict[str, Any] | None = None,
        override_reason: str | None = None,
        *,
        submit: bool = False,
    ) -> int:
        return await self._do(
            calls.resubmit_job(job_id, job_configuration_data, override_reason, submit)
        )

    async def skip_job(self, job_id: int, reason: str | None = None) -> dict[str, Any]:
        return await self._do(calls.skip_job(job_id, reason))

    async def cancel_job(self, job_id: int, reason: str | None = None) -> dict[str, Any]:
        return await self._do(calls.cancel_job(job_id, reason))

    async def force_ok_job(self, job_id: int, reason: str) -> dict[str, Any]:
        return await self._do(calls.force_ok_job(job_id, reason))

    async def attention(self) -> dict[str, Any]:
        return await self._do(calls.attention())
