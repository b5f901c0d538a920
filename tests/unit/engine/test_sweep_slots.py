"""A sweep's chunks count against the status-request limit only while their request is in
flight; a few more may be deciding and writing (SweepSlots)."""

from __future__ import annotations

import asyncio

from irpd.engine.sweep_slots import SweepSlots


async def _has_room(slots: SweepSlots, limit: int) -> bool:
    waiter = asyncio.create_task(slots.room(lambda: limit))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    if waiter.done():
        return True
    waiter.cancel()
    return False


async def test_an_answered_chunk_frees_its_request_while_it_is_written() -> None:
    slots = SweepSlots(write_ahead=1)
    first, second = slots.take(), slots.take()
    assert not await _has_room(slots, 2)  # two requests in flight: the limit
    first.answered()  # Moody's answered; the chunk is being written
    assert await _has_room(slots, 2)
    third = slots.take()
    second.answered()
    assert not await _has_room(slots, 2)  # 3 unwritten = limit + write_ahead
    first.done()
    assert await _has_room(slots, 2)
    second.done()
    third.done()
    assert (slots.asking, slots.active) == (0, 0)


async def test_a_waiting_sweep_wakes_when_a_request_is_answered() -> None:
    slots = SweepSlots(write_ahead=0)
    counted = slots.take()
    waiter = asyncio.create_task(slots.room(lambda: 1))
    await asyncio.sleep(0)
    assert not waiter.done()
    counted.answered()
    counted.answered()  # idempotent: the end of the chunk calls it again
    counted.done()
    await asyncio.wait_for(waiter, 5)
    assert (slots.asking, slots.active) == (0, 0)
