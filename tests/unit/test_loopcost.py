"""An answer's loop cost counts the steps timed in its own context, and nothing elsewhere."""

from __future__ import annotations

import asyncio
import contextvars

from irpd import loopcost


def test_steps_count_only_inside_an_answer() -> None:
    with loopcost.step():  # no answer begun in this context: nothing to count, no error
        pass

    def answer() -> loopcost.LoopCost:
        cost = loopcost.begin()
        for size in (1000, 200_000, 1000):
            with loopcost.step():
                sum(range(size))
        return cost

    cost = contextvars.copy_context().run(answer)
    assert cost.steps == 3
    assert 0 < cost.longest_s <= cost.cpu_s


async def test_concurrent_answers_keep_their_own_cost() -> None:
    async def answer(steps: int) -> int:
        cost = loopcost.begin()
        for _ in range(steps):
            with loopcost.step():
                pass
            await asyncio.sleep(0)
        return cost.steps

    assert list(await asyncio.gather(answer(2), answer(5))) == [2, 5]
