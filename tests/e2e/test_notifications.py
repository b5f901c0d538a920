"""Notifications of a real daemon survive kill -9: before delivery, and during it.

The daemon sends to a signed webhook served by an aiohttp receiver in this process. A batch
whose only job is scripted to fail on the fake Moody's produces two notifications (the job
needs an operator, the batch FAILED). Every message must end DELIVERED, and every request the
receiver saw for it must carry the same Idempotency-Key.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import eventually
from tests.receivers import HttpReceiver

from . import steps
from .harness import FakeMoodys
from .scripted import generic_batch, script_failures
from .stack import Stack

pytestmark = pytest.mark.e2e

CONFIG = """
[notifications]
gather = 0.3
retry_min = 0.2
retry_max = 0.5
poll_interval = 0.1

[[notifications.channels]]
name = "hook"
type = "webhook"
url = "{url}"
secret_env = "IRPD_E2E_HOOK_KEY"
rate_per_minute = 600
timeout = 60

[[notifications.routes]]
channels = ["hook"]
"""


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    server = HttpReceiver()
    server.start_in_thread()
    yield server
    server.release()
    server.stop_thread()


@pytest.fixture
def notifying(fake: FakeMoodys, db_dsn: str, receiver: HttpReceiver) -> Iterator[Stack]:
    """A stack whose daemon sends every notification to ``receiver``."""
    workdir = Path(tempfile.mkdtemp(prefix="irpd-", dir="/tmp"))
    config = workdir / "irpd.toml"
    config.write_text(CONFIG.replace("{url}", receiver.url("/hook")), encoding="utf-8")
    env = {"IRPD_CONFIG": str(config), "IRPD_E2E_HOOK_KEY": "e2e-hmac-key"}
    stack = Stack(fake, db_dsn, workdir, env)
    try:
        yield stack
    finally:
        try:
            stack.close()
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


def fail_one_batch(stack: Stack, directory: Path) -> int:
    """A one-job batch whose job FAILS at Moody's; returns the batch id once it is FAILED."""
    batch = generic_batch(stack, directory, 1, "notify")
    script_failures(stack, batch.job_ids, "threshold too high")
    steps.submit(stack.ctl, batch.batch_id)
    assert steps.wait(stack.ctl, batch.batch_id) == (1, "FAILED")
    return batch.batch_id


def messages(stack: Stack) -> list[dict[str, Any]]:
    """The outbox's messages, as irpctl shows them."""
    listed: dict[str, Any] = stack.ctl.json("notifications", "list")
    return list(listed["messages"])


def all_delivered(stack: Stack, count: int) -> list[dict[str, Any]] | None:
    """The messages once ``count`` exist and every one is DELIVERED."""
    shown = messages(stack)
    done = len(shown) == count and all(m["status"] == "DELIVERED" for m in shown)
    return shown if done else None


def check_keys(receiver: HttpReceiver, shown: list[dict[str, Any]]) -> None:
    """Every message reached the receiver; every request carried a known message's key."""
    keys = {m["idempotency_key"] for m in shown}
    assert {r.key for r in receiver.requests} == keys
    assert {r.key for r in receiver.delivered()} == keys
    for request in receiver.requests:
        body = request.json()
        assert body["idempotency_key"] == request.key


def test_kill_9_before_delivery_loses_nothing(
    notifying: Stack, receiver: HttpReceiver, tmp_path: Path
) -> None:
    receiver.down = True
    notifying.start_daemon()
    batch_id = fail_one_batch(notifying, tmp_path)
    eventually(
        lambda: True if len({r.key for r in receiver.requests}) >= 2 else None,
        "the receiver to refuse both messages",
    )
    notifying.daemon.kill()
    receiver.down = False

    notifying.start_daemon()
    shown = eventually(lambda: all_delivered(notifying, 2), "every message DELIVERED")
    check_keys(receiver, shown)
    titles = sorted(m["title"] for m in shown)
    assert titles[0].startswith(f"Batch {batch_id} FAILED")
    assert titles[1].startswith("Job ")


def test_kill_9_during_delivery_resends_under_the_same_key(
    notifying: Stack, receiver: HttpReceiver, tmp_path: Path
) -> None:
    receiver.hang_next()
    notifying.start_daemon()
    fail_one_batch(notifying, tmp_path)
    eventually(lambda: True if receiver.hanging.is_set() else None, "a delivery in progress")
    notifying.daemon.kill()
    receiver.release()  # the receiver answers a client that is gone
    eventually(lambda: True if receiver.requests else None, "the held request to be recorded")
    held = receiver.requests[0].key

    notifying.start_daemon()
    shown = eventually(lambda: all_delivered(notifying, 2), "every message DELIVERED")
    check_keys(receiver, shown)
    repeats = [r for r in receiver.requests if r.key == held]
    assert len(repeats) >= 2  # sent again after the restart, under the same key
