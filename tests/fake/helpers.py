"""Helpers shared by the fake's tests: request wrappers and settings."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from irpd.moodys.fake import FakeMoodys, FakeSettings

CURRENCY = {"code": "USD", "scheme": "RMS", "asOfDate": "2024-01-01", "vintage": "RL23"}


def analysis_body(name: str, **extra: Any) -> dict[str, Any]:
    """A valid portfolio-analysis body."""
    return {
        "edm": "RM_EDM_202401_Test",
        "currency": dict(CURRENCY),
        "jobName": name,
        "modelProfileId": 4001,
        "outputProfileId": 1,
        "eventRateSchemeId": 700,
        **extra,
    }


class Api:
    """Thin helpers over a raw aiohttp session (no project client involved)."""

    def __init__(self, fake: FakeMoodys, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """Send a request; returns (status, headers, parsed JSON body or raw text or None)."""
        sent = dict(headers or {})
        if key is not None:
            sent["X-RMS-RequestId"] = key
        data = None if body is None else json.dumps(body)
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        async with self.session.request(
            method, path, data=data, headers=sent, params=params
        ) as resp:
            text = await resp.text()
            parsed: Any = None
            if text:
                try:
                    parsed = json.loads(text)
                except ValueError:
                    parsed = text
            return resp.status, dict(resp.headers), parsed

    async def submit_analysis(self, name: str, key: str | None = None, **extra: Any) -> str:
        """Submit an analysis; returns its workflow id."""
        status, headers, _ = await self.call(
            "POST",
            "/riskmodeler/v2/portfolios/12/process",
            body=analysis_body(name, **extra),
            key=key,
        )
        assert status == 202, status
        return headers["Location"].rsplit("/", 1)[1]

    async def workflow(self, workflow_id: str) -> dict[str, Any]:
        """GET one workflow (must answer 200)."""
        status, _, body = await self.call("GET", f"/riskmodeler/v1/workflows/{workflow_id}")
        assert status == 200, (status, body)
        result: dict[str, Any] = body
        return result

    async def status(self, workflow_id: str) -> str:
        """The workflow's current status."""
        return str((await self.workflow(workflow_id))["status"])

    async def lookup(self, ids: list[str], **params: str) -> dict[str, Any]:
        """``ids=`` batch lookup."""
        status, _, body = await self.call(
            "GET", "/riskmodeler/v1/workflows", params={"ids": ",".join(ids), **params}
        )
        assert status == 200, (status, body)
        result: dict[str, Any] = body
        return result


def frozen_settings(**overrides: Any) -> FakeSettings:
    """Settings with simulated time frozen (tests advance it) and short stages."""
    base: dict[str, Any] = {"seed": 1, "time_scale": 0.0, "start_time": "2025-01-01T00:00:00Z"}
    base.update(overrides)
    return FakeSettings(**base)
