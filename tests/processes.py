"""Helpers shared by the suites that drive real processes (tests/e2e, tests/chaos), and the
async wait used by in-process tests of servers."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class HarnessError(AssertionError):
    """A process of the harness did not behave (it is the test that fails)."""


def eventually(
    probe: Callable[[], T | None], what: str, timeout: float = 60.0, interval: float = 0.1
) -> T:
    """Call ``probe`` until it returns something other than None (fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise HarnessError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


async def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Yield to the event loop until ``condition()`` holds (fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        await asyncio.sleep(0.005)


def clean_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without any ``IRPD_*`` variable, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IRPD_")}
    env.update(overrides)
    return env
