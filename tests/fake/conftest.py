"""Fixtures for the fake Moody's server's own suite: a running fake with frozen simulated
time (advance it explicitly) and a plain aiohttp session that talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from irpd.moodys.fake import FakeMoodys

from .helpers import Api, frozen_settings


def pytest_configure(config: pytest.Config) -> None:
    """Register this suite's marker."""
    config.addinivalue_line(
        "markers", "fake_settings(**overrides): FakeSettings overrides for the fixed_api fixture"
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeMoodys]:
    """A running fake with frozen simulated time."""
    async with FakeMoodys.running(frozen_settings()) as running:
        yield running


@pytest.fixture
async def session(fake: FakeMoodys) -> AsyncIterator[aiohttp.ClientSession]:
    """An authenticated aiohttp session bound to the fake."""
    async with aiohttp.ClientSession(
        fake.base_url, headers={"Authorization": fake.api_key}
    ) as client:
        yield client


@pytest.fixture
def api(fake: FakeMoodys, session: aiohttp.ClientSession) -> Api:
    """Request helpers."""
    return Api(fake, session)
