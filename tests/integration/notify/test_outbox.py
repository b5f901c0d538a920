"""The notification outbox on a real database, delivered to real local receivers: an aiohttp
server standing in for Teams, Slack and a signed webhook, and an SMTP server with STARTTLS."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest

from irpd.db.database import Database
from irpd.notify.admin import NotificationAdmin, NotificationError
from irpd.notify.delivery import SIGNATURE_HEADER, build_channels, http_session
from irpd.notify.outbox import Outbox
from irpd.notify.settings import ChannelConfig, NotificationsConfig, RouteConfig
from irpd.notify.watch import DegradedWatch
from irpd.ops.recon import Recon
from tests.receivers import HttpReceiver, SmtpReceiver

SECRET = "hmac-test-key"
SEED = """
INSERT INTO irp_cycle (cycle_name) VALUES ('2026Q4');
INSERT INTO irp_configuration (cycle_id, configuration_file_name, configuration_data, status)
SELECT id, 'seed.xlsx', '{}'::jsonb, 'ACTIVE' FROM irp_cycle;
INSERT INTO irp_batch (configuration_id, batch_type, status, submitted_ts)
SELECT id, 'analysis', 'ACTIVE', now() FROM irp_configuration;
INSERT INTO irp_job_configuration (batch_id, configuration_id, job_configuration_data)
SELECT b.id, b.configuration_id, jsonb_build_object('n', g)
  FROM irp_batch b, generate_series(1, {n}) g;
INSERT INTO irp_job (batch_id, job_configuration_id, status, moodys_workflow_id, submitted_ts)
SELECT batch_id, id, 'RUNNING', (22800000 + id)::text, now()
  FROM irp_job_configuration ORDER BY id;
"""


async def scalar(dsn: str, query: str) -> object:
    """One value read with a connection of its own (a test's look at the tables)."""
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(query)
    finally:
        await conn.close()


async def seed(db: Database, jobs: int) -> None:
    """Cycle 2026Q4 with one ACTIVE analysis batch (id 1) of ``jobs`` RUNNING jobs."""
    async with db.transaction() as tx:
        await tx.execute_script(SEED.replace("{n}", str(jobs)))


async def settle(db: Database, failed: int, finished: int = 0) -> None:
    """The first ``failed`` jobs FAIL (one statement, as the tracker writes), then
    ``finished`` more FINISH."""
    async with db.transaction() as tx:
        await tx.execute_script(
            f"UPDATE irp_job SET status = 'FAILED', last_error = 'threshold too high' "
            f"WHERE id <= {failed};"
            f"UPDATE irp_job SET status = 'FINISHED' WHERE id > {failed} "
            f"AND id <= {failed + finished};"
        )


@pytest.fixture
async def http() -> AsyncIterator[HttpReceiver]:
    receiver = HttpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver(tmp_path)
    receiver.start()
    yield receiver
    receiver.stop()


def channels(
    http: HttpReceiver, smtp: SmtpReceiver, secret_file: Path
) -> tuple[ChannelConfig, ...]:
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    return (
        ChannelConfig(name="teams", type="teams", url=http.url("/teams"), rate_per_minute=600),
        ChannelConfig(name="slack", type="slack", url=http.url("/slack"), rate_per_minute=600),
        ChannelConfig(
            name="hook",
            type="webhook",
            url=http.url("/hook"),
            secret_file=str(secret_file),
            rate_per_minute=600,
        ),
        ChannelConfig(
            name="mail",
            type="email",
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            ca_file=str(smtp.cert),
            sender="irpd@example.invalid",
            recipients=("ops@example.invalid",),
            rate_per_minute=600,
        ),
    )


def settings(chans: tuple[ChannelConfig, ...], kinds: tuple[str, ...] = ()) -> NotificationsConfig:
    return NotificationsConfig(
        channels=chans,
        routes=(RouteConfig(channels=tuple(c.name for c in chans), kinds=kinds),),
        gather=0.0,
        retry_min=0.05,
        retry_max=0.2,
        digest_threshold=3,
    )


async def until(probe: Callable[[], object], step: Callable[[], object], what: str) -> None:
    """Run ``step`` until ``probe`` is true (bounded by rounds, not by time)."""
    for _ in range(200):
        await step()  # type: ignore[misc]
        if probe():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


@pytest.fixture
async def outbox_for(db: Database) -> AsyncIterator[Callable[[NotificationsConfig], Outbox]]:
    sessions = []

    def make(config: NotificationsConfig) -> Outbox:
        built, session = build_channels(config.channels, http_session)
        sessions.append(session)
        return Outbox(
            db, config, built, worker_id="w1", public_url="https://irpd.example.invalid/"
        )

    yield make
    for session in sessions:
        if session is not None:
            await session.close()


async def test_a_failed_batch_is_one_message_per_channel_with_its_content(
    db: Database,
    db_dsn: str,
    http: HttpReceiver,
    smtp: SmtpReceiver,
    tmp_path: Path,
    outbox_for: Callable[[NotificationsConfig], Outbox],
) -> None:
    await seed(db, 3)
    await settle(db, failed=1, finished=2)
    result = await Recon(db).recon_batch(1, only_on_change=True)
    assert result["status"] == "FAILED"
    outbox = outbox_for(settings(channels(http, smtp, tmp_path / "key"), ("batch_failed",)))

    await until(lambda: len(http.delivered()) == 3 and len(smtp.messages) == 1, outbox.step,
                "delivery to every channel")
    for _ in range(3):
        await outbox.step()  # nothing more to send
    assert sorted(r.path for r in http.requests) == ["/hook", "/slack", "/teams"]
    assert len(smtp.messages) == 1

    key = str(await scalar(db_dsn, "SELECT idempotency_key FROM irp_notification "
                                   "WHERE kind = 'batch_failed'"))
    assert {r.key for r in http.requests} == {key}
    teams = next(r for r in http.requests if r.path == "/teams").json()
    assert teams["@type"] == "MessageCard"
    assert teams["title"] == "Batch 1 FAILED (analysis, cycle 2026Q4)"
    facts = {f["name"]: f["value"] for f in teams["sections"][0]["facts"]}
    assert facts["Cycle"] == "2026Q4"
    assert "1 job(s) failed" in teams["sections"][0]["text"]
    assert "irpctl batch jobs 1 --status FAILED" in teams["sections"][1]["text"]
    assert teams["potentialAction"][0]["targets"][0]["uri"] == (
        "https://irpd.example.invalid/batches/1"
    )
    slack = next(r for r in http.requests if r.path == "/slack").json()
    assert slack["blocks"][0]["text"]["text"] == "Batch 1 FAILED (analysis, cycle 2026Q4)"
    assert slack["blocks"][-1]["elements"][0]["url"].endswith("/batches/1")
    hook = next(r for r in http.requests if r.path == "/hook")
    expected = hmac.new(SECRET.encode(), hook.body, hashlib.sha256).hexdigest()
    assert hook.headers[SIGNATURE_HEADER] == f"sha256={expected}"
    body = hook.json()
    assert body["idempotency_key"] == key
    assert body["notifications"][0]["kind"] == "batch_failed"
    assert body["notifications"][0]["cycle"] == "2026Q4"
    mail = smtp.messages[0]
    assert mail["Subject"] == "[irpd] Batch 1 FAILED (analysis, cycle 2026Q4)"
    assert mail["Message-ID"] == f"<{key}@irpd>"
    assert smtp.mailbox.tls == [True]
    assert "irpctl batch jobs 1" in mail.get_payload()

    # the job that failed is in the outbox too (no route took it here)
    listed = await NotificationAdmin(db).list()
    assert listed["summary"]["delivered"] == 4
    assert listed["summary"]["no_channel"] == 1


async def test_a_receiver_down_gets_the_message_once_it_is_back_same_key(
    db: Database,
    http: HttpReceiver,
    smtp: SmtpReceiver,
    tmp_path: Path,
    outbox_for: Callable[[NotificationsConfig], Outbox],
) -> None:
    await seed(db, 2)
    await settle(db, failed=2)
    await Recon(db).recon_batch(1, only_on_change=True)
    config = settings(channels(http, smtp, tmp_path / "key"), ("batch_failed",))
    outbox = outbox_for(config)
    http.down = smtp.mailbox.down = True
    await until(lambda: len(http.requests) >= 9 and len(smtp.mailbox.refused) >= 3,
                outbox.step, "three attempts per channel")  # fmt: skip
    assert http.delivered() == []
    assert smtp.messages == []
    listed = await NotificationAdmin(db).list(status="PENDING")
    errors = {m["channel"]: m["last_error"] for m in listed["messages"]}
    assert errors.pop("mail").startswith("SMTP 451")
    assert set(errors.values()) == {"HTTP 503"}

    http.down = smtp.mailbox.down = False
    await until(lambda: len(http.delivered()) == 3 and len(smtp.messages) == 1, outbox.step,
                "delivery after the outage")  # fmt: skip
    keys = {r.key for r in http.requests}
    assert len(keys) == 1  # every attempt, failed or not, carried the notification's key
    assert sorted(r.path for r in http.delivered()) == ["/hook", "/slack", "/teams"]
    (key,) = keys
    assert set(smtp.mailbox.refused) == {smtp.messages[0]["Message-ID"]} == {f"<{key}@irpd>"}


async def test_a_burst_of_100_failures_is_one_digest_per_channel(
    db: Database,
    http: HttpReceiver,
    smtp: SmtpReceiver,
    tmp_path: Path,
    outbox_for: Callable[[NotificationsConfig], Outbox],
) -> None:
    await seed(db, 100)
    await settle(db, failed=100)
    await Recon(db).recon_batch(1, only_on_change=True)  # the batch FAILED: one more
    outbox = outbox_for(settings(channels(http, smtp, tmp_path / "key")))
    await until(lambda: len(http.delivered()) == 3 and len(smtp.messages) == 1, outbox.step,
                "one digest per channel")
    for _ in range(3):
        await outbox.step()
    assert len(http.requests) == 3
    assert len(smtp.messages) == 1
    hook = next(r for r in http.requests if r.path == "/hook").json()
    assert hook["digest"] is True
    assert len(hook["notifications"]) == 101
    assert "100 job(s) need an operator (FAILED 100)" in hook["text"]
    assert "ended FAILED" in hook["text"]
    assert "and 80 more" in hook["text"]
    teams = next(r for r in http.requests if r.path == "/teams").json()
    assert teams["title"] == "irpd: 101 notifications (1 batch_failed, 100 job_needs_operator)"
    assert "[irpd] irpd: 101 notifications" in str(smtp.messages[0]["Subject"])


async def test_a_refused_message_fails_with_its_reason_and_can_be_resent(
    db: Database,
    http: HttpReceiver,
    smtp: SmtpReceiver,
    tmp_path: Path,
    outbox_for: Callable[[NotificationsConfig], Outbox],
) -> None:
    await seed(db, 1)
    await settle(db, failed=1)
    hook = replace(channels(http, smtp, tmp_path / "key")[2], url=http.url("/missing"))
    config = settings((hook,), ("job_needs_operator",))
    outbox = outbox_for(config)
    admin = NotificationAdmin(db, outbox.wake)
    http.answer = 404  # the webhook was revoked
    await until(lambda: len(http.requests) == 1, outbox.step, "one attempt")
    await outbox.step()
    failed = await admin.list(status="FAILED")
    assert [m["last_error"] for m in failed["messages"]] == ["HTTP 404"]
    assert failed["summary"]["failed"] == 1
    message = failed["messages"][0]
    assert message["title"].startswith("Job 1 FAILED in batch 1")

    http.answer = 200
    resent = await admin.resend(message["id"])
    assert resent["status"] == "PENDING"
    await until(lambda: len(http.requests) == 2, outbox.step, "the resend")
    await outbox.step()
    assert http.requests[0].key == http.requests[1].key == message["idempotency_key"]
    assert (await admin.list(status="DELIVERED"))["summary"]["delivered"] == 1
    with pytest.raises(NotificationError, match="not found"):
        await admin.resend(999)
    with pytest.raises(NotificationError, match="Unknown status"):
        await admin.list(status="LOST")


async def test_a_degraded_state_is_notified_once_and_its_end_too(
    db: Database, db_dsn: str
) -> None:
    reason: list[str | None] = ["Moody's status lookups failing: timeout"]
    watch = DegradedWatch(db, degraded_after=0.0, worker_id="w1")
    watch.add("moodys", lambda: reason[0], "Check Moody's.")
    await watch.check()
    await watch.check()
    reason[0] = None
    await watch.check()
    await watch.check()
    conn = await asyncpg.connect(db_dsn)
    try:
        rows = await conn.fetch("SELECT kind, severity, details::text FROM irp_notification "
                                "ORDER BY id")
    finally:
        await conn.close()
    assert [r["kind"] for r in rows] == ["daemon_degraded", "daemon_recovered"]
    assert json.loads(rows[0]["details"])["component"] == "moodys"
    assert rows[0]["severity"] == "critical"


async def test_cycle_steps_starting_and_finishing_are_notified(
    db: Database,
    http: HttpReceiver,
    smtp: SmtpReceiver,
    tmp_path: Path,
    outbox_for: Callable[[NotificationsConfig], Outbox],
) -> None:
    await seed(db, 1)
    async with db.transaction() as tx:
        await tx.execute_script(
            "INSERT INTO irp_cycle_plan (cycle_id, configuration_id, plan_name, plan) "
            "SELECT cycle_id, id, 'default', '{}'::jsonb FROM irp_configuration;"
            "INSERT INTO irp_step_run (cycle_id, step_name, status) "
            "SELECT cycle_id, 'analysis', 'STARTING' FROM irp_cycle_plan;"
            "INSERT INTO irp_step_run (cycle_id, step_name, status) "
            "SELECT cycle_id, 'rollup', 'STARTING' FROM irp_cycle_plan;"
        )
    assert await db.fetchrow("step_run_started", 1, 1) is not None
    assert await db.fetchrow("step_run_finish", 1, "RUNNING", "COMPLETED", None, "analysis")
    assert await db.fetchrow("step_run_finish", 1, "STARTING", "SKIPPED", "not needed", "rollup")
    hook = channels(http, smtp, tmp_path / "key")[2]
    outbox = outbox_for(settings((hook,), ("step_started", "step_finished")))
    await until(lambda: len(http.delivered()) == 3, outbox.step, "three step messages")
    titles = [r.json()["title"] for r in http.delivered()]
    assert titles == [
        "Cycle 2026Q4: step analysis started",
        "Cycle 2026Q4: step analysis COMPLETED",
        "Cycle 2026Q4: step rollup SKIPPED",
    ]
    assert "not needed" in http.delivered()[2].json()["text"]


class _BrokenOnce:
    """A channel whose first send raises an unexpected exception (a bug), then works."""

    name = "broken"
    rate_per_minute = 600.0

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, content: dict[str, object], key: str) -> None:
        if not self.sent:
            self.sent.append("crash")
            raise RuntimeError("bug")
        self.sent.append(key)

    async def close(self) -> None:
        return None


async def test_a_channel_bug_is_a_failed_attempt_not_a_crash(db: Database) -> None:
    await seed(db, 1)
    await settle(db, failed=1)
    channel = _BrokenOnce()
    config = NotificationsConfig(
        routes=(RouteConfig(channels=("broken",)),), gather=0.0, retry_min=0.05, retry_max=0.1
    )
    outbox = Outbox(db, config, {"broken": channel}, worker_id="w1")
    await until(lambda: len(channel.sent) == 2, outbox.step, "the retry after the bug")
    assert channel.sent[0] == "crash"
    listed = await NotificationAdmin(db).list(status="DELIVERED")
    assert [m["idempotency_key"] for m in listed["messages"]] == [channel.sent[1]]
