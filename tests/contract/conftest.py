"""Contract tests: the production client against the fake Moody's server, over real HTTP.

Each test gets a fresh fake on a random loopback port (simulated time frozen unless the test
advances it) and a client with fast retries and a generous rate limit, so the suite runs in
seconds. Tests that need other settings build their own with ``make_settings``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from irpd.moodys.client import MoodysClient
from irpd.moodys.fake import FakeMoodys, FakeSettings
from irpd.moodys.ratelimit import RateLimitSettings
from irpd.moodys.retry import RetryPolicy
from irpd.moodys.secret import Secret
from irpd.moodys.settings import MoodysSettings

#: distinctive, so a leak is easy to find in any text
API_KEY = "sk-live-CONTRACT-7f3a9c2e-DO-NOT-LOG"
RESOURCE_GROUP = "5b1c3e8a-0000-4000-8000-000000000001"
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_elapsed=20.0)
FAST_RATE = RateLimitSettings(
    initial_rate=2000.0, min_rate=1.0, max_rate=5000.0, burst=500.0, recovery_step=1.0
)

SettingsFor = Callable[..., MoodysSettings]
FakeStarter = Callable[..., AbstractAsyncContextManager[FakeMoodys]]


def _fake_settings(**overrides: Any) -> FakeSettings:
    values: dict[str, Any] = {"seed": 7, "time_scale": 0.0, "api_keys": (API_KEY,)}
    values.update(overrides)
    return FakeSettings(**values)


def _client_settings(fake: FakeMoodys, **overrides: Any) -> MoodysSettings:
    values: dict[str, Any] = {
        "base_url": fake.base_url,
        "api_key": Secret(API_KEY),
        "resource_group_id": RESOURCE_GROUP,
        "retry": FAST_RETRY,
        "rate_limit": FAST_RATE,
    }
    values.update(overrides)
    return MoodysSettings(**values)


@pytest.fixture
def api_key() -> str:
    """The key the fake accepts (and that must never leak)."""
    return API_KEY


@pytest.fixture
def start_fake() -> FakeStarter:
    """``async with start_fake(strict_references=True, ...) as fake:`` (FakeSettings fields)."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[FakeMoodys]:
        return FakeMoodys.running(_fake_settings(**overrides))

    return start


@pytest.fixture
async def fake() -> AsyncIterator[FakeMoodys]:
    """A fresh lenient fake with frozen simulated time."""
    async with FakeMoodys.running(_fake_settings()) as server:
        yield server


@pytest.fixture
def settings_for() -> SettingsFor:
    """``settings_for(fake, retry=..., ...)``: client settings for a fake (any field)."""
    return _client_settings


@pytest.fixture
async def client(fake: FakeMoodys) -> AsyncIterator[MoodysClient]:
    """A client for ``fake`` with the contract-test defaults."""
    async with MoodysClient(_client_settings(fake)) as moodys:
        yield moodys
