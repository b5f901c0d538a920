"""The adaptive concurrency limit of status reads: grows while latency holds, shrinks as it
rises, halves on overload (once per burst), stays within its bounds and the rate limiter's,
and its slots are a fair semaphore of the current size. Status requests stay under the URL
bound."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from irpd.moodys.adaptive import AdaptiveConcurrency, AdaptiveSettings
from irpd.moodys.workflows import MAX_STATUS_URL_BYTES, chunked


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _limit(**kwargs: float) -> AdaptiveConcurrency:
    return AdaptiveConcurrency(AdaptiveSettings(**kwargs), clock=Clock())  # type: ignore[arg-type]


async def _busy(
    limit: AdaptiveConcurrency, trips: int, rtt: float | Callable[[int], float]
) -> None:
    """``trips`` round trips with the limit fully used: every request in flight finishes
    once per trip, after ``rtt`` seconds (or ``rtt(in_flight)``: a server that queues)."""
    for _ in range(trips):
        held = limit.limit
        async with _all_slots(limit, held):
            seconds = rtt(held) if callable(rtt) else rtt
            for _ in range(held):
                limit.record(seconds)


class _all_slots:
    def __init__(self, limit: AdaptiveConcurrency, n: int) -> None:
        self.limit, self.n = limit, n
        self.contexts: list[object] = []

    async def __aenter__(self) -> None:
        for _ in range(self.n):
            context = self.limit.slot()
            await context.__aenter__()
            self.contexts.append(context)

    async def __aexit__(self, *_exc: object) -> None:
        for context in self.contexts:
            await context.__aexit__(None, None, None)  # type: ignore[attr-defined]


async def test_steady_latency_grows_the_limit_to_its_maximum() -> None:
    limit = _limit(initial=4, maximum=16)
    await _busy(limit, 60, 0.2)
    assert limit.limit == 16


async def test_rising_latency_shrinks_it_and_an_idle_limit_does_not_grow() -> None:
    limit = _limit(initial=16, maximum=32)
    await _busy(limit, 30, 0.2)
    grown = limit.limit
    await _busy(limit, 40, 1.0)  # Moody's queues: five times the latency
    assert limit.limit < grown / 2
    idle = _limit(initial=4, maximum=32)
    for _ in range(50):
        idle.record(0.2)  # one request at a time: the limit is not the bound
    assert idle.limit == 4


def test_overload_halves_once_per_burst_and_never_below_the_minimum() -> None:
    clock = Clock()
    limit = AdaptiveConcurrency(AdaptiveSettings(initial=16, maximum=16), clock=clock)
    limit.overloaded()
    limit.overloaded()  # the same burst
    assert limit.limit == 8
    clock.now += 1.5
    limit.overloaded()
    assert limit.limit == 4
    for _ in range(10):
        clock.now += 1.5
        limit.overloaded()
    assert limit.limit == 1


def test_the_rate_limiter_bounds_it() -> None:
    rate = [500.0]
    limit = AdaptiveConcurrency(AdaptiveSettings(initial=16, maximum=16), rate=lambda: rate[0])
    limit.record(0.2)
    assert limit.limit == 16
    rate[0] = 10.0  # after 429s: 10 requests/s × 0.2 s = 2 in flight are enough
    assert limit.limit == 2


async def test_slots_follow_the_current_limit_first_come_first_served() -> None:
    limit = _limit(initial=2, maximum=4)
    order: list[int] = []
    release = asyncio.Event()

    async def user(n: int) -> None:
        async with limit.slot():
            order.append(n)
            await release.wait()

    tasks = [asyncio.create_task(user(n)) for n in range(5)]
    await asyncio.sleep(0.01)
    assert order == [0, 1]
    assert limit.in_flight == 2
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert limit.in_flight == 0


async def test_a_cancelled_waiter_gives_its_slot_on() -> None:
    limit = _limit(initial=1, maximum=1)
    entered = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with limit.slot():
            entered.set()
            await release.wait()

    first = asyncio.create_task(holder())
    await entered.wait()
    waiting = asyncio.create_task(limit.slot().__aenter__())
    await asyncio.sleep(0)
    waiting.cancel()
    release.set()
    await first
    async with limit.slot():
        assert limit.in_flight == 1
    assert limit.in_flight == 0


def test_status_requests_stay_under_the_url_bound() -> None:
    ids = [str(100_000_000 + i) for i in range(3000)]  # nine digits each
    chunks = chunked(ids, 1000, max_query=7900)
    assert [i for c in chunks for i in c] == ids
    assert all(len(",".join(c)) <= 7900 for c in chunks)
    assert len(chunks[0]) == 790
    assert chunked(ids[:10], 4, max_query=7900) == [ids[0:4], ids[4:8], ids[8:10]]
    assert MAX_STATUS_URL_BYTES == 8000


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="minimum <= maximum"):
        AdaptiveSettings(minimum=5, maximum=2)


def test_requests_carry_as_many_ids_as_the_url_bound_allows() -> None:
    from irpd.moodys.secret import Secret
    from irpd.moodys.settings import MoodysSettings
    from irpd.moodys.workflows import Workflows

    class Stand:
        settings = MoodysSettings(
            base_url="https://api-euw1.rms.com", api_key=Secret("k"), status_batch_size=1000
        )

        @staticmethod
        def stats() -> object:
            raise AssertionError("not needed")

    workflows = Workflows(Stand())  # type: ignore[arg-type]
    assert workflows.ids_per_request() == Stand.settings.status_batch_size
    workflows._id_chars = 8  # eight-digit ids: 9 characters each with the comma
    assert workflows.ids_per_request() == (workflows.max_ids_text + 1) // 9
    assert 850 <= workflows.ids_per_request() <= 890
    workflows._id_chars = 10
    assert 700 <= workflows.ids_per_request() <= 730


# --- submissions: the same limit in front of POSTs, with the product's bounds ---------------


def _submission_limit(rate: list[float], clock: Clock | None = None) -> AdaptiveConcurrency:
    """A limit like the daemon's submission limit (product defaults), at ``rate[0]`` req/s."""
    from irpd.config import MoodysConfig
    from irpd.moodys.client import MoodysClient
    from irpd.wiring import moodys_settings

    client = MoodysClient(moodys_settings(MoodysConfig(api_key="k")))
    assert client.submission_parallelism() == 8  # starts at the fixed bound it replaced
    return AdaptiveConcurrency(
        client.submission_limit.settings, rate=lambda: rate[0], clock=clock or Clock()
    )


async def test_a_fast_moodys_gets_as_many_submissions_as_the_rate_allows() -> None:
    rate = [500.0]  # moodys.requests_per_second
    limit = _submission_limit(rate)
    assert limit.settings.maximum == 200
    await _busy(limit, 10, 0.2)  # Moody's accepts every POST in 0.2 s, however many
    assert limit.limit == 100  # 500 requests/s x 0.2 s: more would only wait for tokens
    rate[0] = 700.0  # the bucket grew back with the successes
    await _busy(limit, 3, 0.2)
    assert limit.limit == 140
    rate[0] = 2000.0
    await _busy(limit, 3, 0.2)
    assert limit.limit == 200  # moodys.submit_concurrency


async def test_a_struggling_moodys_backs_the_submissions_off() -> None:
    limit = _submission_limit([2000.0])

    def serving_20(in_flight: int) -> float:
        """A Moody's that works on 20 POSTs at once: the rest queue in front of it."""
        return 0.2 * max(1.0, in_flight / 20)

    await _busy(limit, 40, serving_20)
    assert 20 <= limit.limit <= 60  # about twice what it serves, not 200
    long, short = limit.latency()
    assert long is not None
    assert short is not None
    assert short < 3 * long  # the queue it keeps: latency about doubled, not 200 / 20 times


async def test_errors_halve_the_submission_limit_once_per_burst() -> None:
    clock = Clock()
    limit = _submission_limit([2000.0], clock)
    await _busy(limit, 6, 0.2)
    assert limit.limit == 200
    for _ in range(50):  # one burst of 429s/503s from the POSTs in flight
        limit.overloaded()
    assert limit.limit == 100
    clock.now += 1.5
    limit.overloaded()
    assert limit.limit == 50
    assert limit.overloads == 2
