"""The circuit breaker against the fake over real HTTP: while Moody's is unreachable only
probes are sent, at growing intervals; the first answer closes the circuit; ``status`` shows
reachability, the current error and the authentication state. The breaker's clock is the
test's, so nothing depends on how fast the machine is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from irpd.moodys.circuit import CircuitSettings, MoodysHealthState
from irpd.moodys.client import MoodysClient
from irpd.moodys.errors import (
    MoodysAuthenticationError,
    MoodysNotFound,
    MoodysServerError,
    MoodysUnavailable,
)
from irpd.moodys.fake import FakeMoodys, Faults
from irpd.moodys.retry import NO_RETRY
from irpd.moodys.secret import Secret
from irpd.moodys.transport import Transport

from .conftest import SettingsFor

BREAKER = CircuitSettings(
    open_after=3, open_min_seconds=0.0, first_probe=10.0, max_probe_interval=25.0
)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def breaking(
    fake: FakeMoodys, settings_for: SettingsFor, clock: Clock
) -> AsyncIterator[MoodysClient]:
    settings = settings_for(fake, circuit=BREAKER)
    health = MoodysHealthState(BREAKER, clock=clock)
    async with MoodysClient(settings, transport=Transport.open(settings, health=health)) as c:
        yield c


def _sent(fake: FakeMoodys) -> int:
    return fake.context.requests.total


async def test_an_outage_opens_the_circuit_and_only_probes_go_out(
    fake: FakeMoodys, breaking: MoodysClient, clock: Clock
) -> None:
    fake.set_faults(Faults(methods=("GET",), error_rate=1.0, error_statuses=(503,)))
    with pytest.raises(MoodysUnavailable):  # 3 attempts fail, the 4th is held back
        await breaking.get_workflow("1")
    assert _sent(fake) == 3
    for _ in range(20):
        with pytest.raises(MoodysUnavailable) as held:
            await breaking.get_workflow("1")
    assert _sent(fake) == 3
    assert "circuit open" in str(held.value)
    assert held.value.retry_in >= 10.0
    shown = breaking.health.snapshot()
    assert shown["reachable"] is False
    assert shown["unreachable_since"] is not None
    assert shown["circuit"]["state"] == "open"
    assert "MoodysServerError" in shown["last_error"]

    clock.now += 10.0  # one probe is due: it goes, fails, and the interval doubles
    with pytest.raises(MoodysUnavailable):
        await breaking.get_workflow("1")
    assert _sent(fake) == 4
    assert breaking.health.snapshot()["circuit"]["probe_interval"] == 20.0
    clock.now += 19.0
    with pytest.raises(MoodysUnavailable):
        await breaking.get_workflow("1")
    assert _sent(fake) == 4

    clock.now += 1.0  # Moody's is back: the probe's answer (even a 404) closes the circuit
    fake.set_faults(None)
    with pytest.raises(MoodysNotFound):
        await breaking.get_workflow("1")
    shown = breaking.health.snapshot()
    assert shown["circuit"]["state"] == "closed"
    assert shown["reachable"] is True
    assert shown["last_error"] is None
    assert shown["unreachable_since"] is None
    with pytest.raises(MoodysNotFound):
        await breaking.get_workflow("2")
    assert _sent(fake) == 6


async def test_failures_between_answers_do_not_open_it(
    fake: FakeMoodys, settings_for: SettingsFor
) -> None:
    settings = settings_for(fake, retry=NO_RETRY, circuit=BREAKER)
    async with MoodysClient(settings) as client:
        for _ in range(3):
            fake.set_faults(Faults(methods=("GET",), error_rate=1.0, error_statuses=(500,)))
            for _ in range(2):
                with pytest.raises(MoodysServerError):
                    await client.get_workflow("1")
            assert client.health.snapshot()["last_error"] is not None
            fake.set_faults(None)
            with pytest.raises(MoodysNotFound):
                await client.get_workflow("1")
            shown = client.health.snapshot()
            assert shown["circuit"]["state"] == "closed"
            assert shown["last_error"] is None


async def test_a_refused_key_shows_as_failing_authentication(
    fake: FakeMoodys, settings_for: SettingsFor
) -> None:
    async with MoodysClient(settings_for(fake, api_key=Secret("wrong-key"))) as client:
        with pytest.raises(MoodysAuthenticationError):
            await client.get_workflow("1")
        shown = client.health.snapshot()
    auth = shown["authentication"]
    assert auth["state"] == "failing"
    assert auth["failing_since"] is not None
    assert "MoodysAuthenticationError" in shown["last_error"]
    assert shown["reachable"] is True
    assert shown["circuit"]["state"] == "closed"
    assert "wrong-key" not in str(shown)
