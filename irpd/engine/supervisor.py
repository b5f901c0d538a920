"""Supervision of the daemon's background tasks: a crash of any task stops the process."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger("irpd.supervisor")


class Supervisor:
    """Starts named tasks and reports the first one that fails.

    A task that raises is logged (``task_crashed`` with its traceback) and sets
    :attr:`failed`; the composition root then shuts down and exits non-zero so that systemd
    restarts the process. Nothing is swallowed.
    """

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.failed = asyncio.Event()
        self.failure: tuple[str, BaseException] | None = None

    def start(self, name: str, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coro`` as a supervised task called ``name``."""
        if name in self._tasks and not self._tasks[name].done():
            raise RuntimeError(f"task {name!r} is already running")
        task = asyncio.create_task(coro, name=f"irpd:{name}")
        self._tasks[name] = task
        task.add_done_callback(lambda t: self._done(name, t))
        return task

    def _done(self, name: str, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        error = task.exception()
        if error is None:
            log.info("task_finished", task=name)
            return
        if self.failure is None:
            self.failure = (name, error)
        log.error("task_crashed", task=name, exc_info=error)
        self.failed.set()

    def running(self) -> list[str]:
        """Names of tasks that have not finished."""
        return [name for name, task in self._tasks.items() if not task.done()]

    async def cancel_all(self, timeout: float) -> None:
        """Cancel every task and wait up to ``timeout`` seconds for them to finish."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                log.warning("task_did_not_stop", task=task.get_name())
            del done
