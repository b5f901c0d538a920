"""The outbox sender: routes notifications to channels as messages and delivers them.

One supervised task, apart from the engine, repeats three steps every
``notifications.poll_interval`` seconds:

1. **route**: once a burst is quiet for ``gather`` seconds (or its oldest notification is
   ``max_gather`` old), take the unrouted notifications, compose the messages of every
   channel (one digest when a channel gets more than ``digest_threshold``) and store them with
   the notifications marked routed, in one transaction;
2. **deliver**: for each channel, claim as many due messages as its rate allows and send them
   one by one; a success marks the message DELIVERED, a failure schedules the next attempt
   (doubling from ``retry_min`` to ``retry_max``, or ``Retry-After``) or marks it FAILED
   (permanent error, or older than ``give_up_after``);
3. **measure** the outbox's depth for the metrics.

A crash between sending and marking sends the message again after the restart, under the same
``Idempotency-Key``: delivery is at least once, and receivers can drop the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import structlog

from irpd.db.database import Database, DatabaseUnavailable, Row
from irpd.notify.compose import compose, note_from_row
from irpd.notify.delivery import Channel, DeliveryError
from irpd.notify.settings import NotificationsConfig

if TYPE_CHECKING:  # prometheus_client is imported only when metrics.listen is set
    from prometheus_client.core import Metric

log = structlog.get_logger("irpd.notify")

#: notifications routed per transaction at most
ROUTE_LIMIT: Final = 5000


class RateLimit:
    """A token bucket of ``per_minute`` messages (a burst of up to a sixth of a minute's)."""

    def __init__(self, per_minute: float, clock: Any = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 6.0)
        self._tokens = self.capacity
        self._clock = clock
        self._at = clock()

    def available(self) -> int:
        """Whole messages that may be sent now."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        return int(self._tokens)

    def take(self) -> None:
        """One message was sent."""
        self._tokens -= 1


@dataclass
class OutboxStats:
    """What the metrics show of the outbox (refreshed every round)."""

    unrouted: int = 0
    pending: int = 0
    failed: int = 0
    oldest_seconds: float = 0.0
    delivered: int = 0
    attempts_failed: int = 0


class Outbox:
    """Routes and delivers notifications (a supervised task: :meth:`run`)."""

    def __init__(
        self,
        db: Database,
        config: NotificationsConfig,
        channels: Mapping[str, Channel],
        *,
        worker_id: str,
        public_url: str = "",
        rng: random.Random | None = None,
    ) -> None:
        self._db = db
        self.config = config
        self.channels = dict(channels)
        self._worker = worker_id
        self._public_url = public_url
        self._rng = rng or random.Random()
        self._limits = {name: RateLimit(c.rate_per_minute) for name, c in self.channels.items()}
        self._wake = asyncio.Event()
        self.stats = OutboxStats()

    def wake(self) -> None:
        """Look at the outbox now (e.g. after a resend)."""
        self._wake.set()

    async def run(self) -> None:
        """Route, deliver and measure forever; a database outage is waited out."""
        await self._retry_database(self._fail_orphans)
        while True:
            await self._retry_database(self.step)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)

    async def _retry_database(self, step: Any) -> None:
        backoff = self.config.poll_interval
        while True:
            try:
                await step()
                return
            except DatabaseUnavailable:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def step(self) -> None:
        """One round: route, deliver, measure."""
        await self.route()
        await self.deliver()
        await self.measure()

    async def _fail_orphans(self) -> None:
        await self._db.execute("notification_orphans", sorted(self.channels))

    # --- routing --------------------------------------------------------------------------
    async def route(self) -> int:
        """Route a ready burst; returns how many notifications were routed."""
        age = await self._db.fetchrow("notification_unrouted_age")
        if age is None or not age["waiting"]:
            return 0
        quiet = age["quiet_seconds"] >= self.config.gather
        if not quiet and age["oldest_seconds"] < self.config.max_gather:
            return 0
        async with self._db.transaction() as tx:
            rows = await tx.fetch("notification_take", ROUTE_LIMIT)
            notes = [note_from_row(row) for row in rows]
            messages, chosen = compose(
                notes,
                self.config.routes,
                digest_threshold=self.config.digest_threshold,
                public_url=self._public_url,
            )
            if messages:
                await tx.execute(
                    "notification_message_insert",
                    [
                        {
                            "channel": m.channel,
                            "key": m.key,
                            "ids": list(m.notification_ids),
                            "content": m.content,
                        }
                        for m in messages
                    ],
                )
            await tx.execute(
                "notification_mark_routed",
                [{"id": note_id, "channels": names} for note_id, names in chosen.items()],
            )
        if messages:
            log.info(
                "notifications_routed",
                notifications=len(notes),
                messages=len(messages),
                digests=sum(1 for m in messages if len(m.notification_ids) > 1),
            )
        return len(notes)

    # --- delivery -------------------------------------------------------------------------
    async def deliver(self) -> int:
        """Send every channel's due messages its rate allows; returns how many were sent."""
        sent = await asyncio.gather(*(self._deliver_channel(n) for n in self.channels))
        return sum(sent)

    async def _deliver_channel(self, name: str) -> int:
        limit = self._limits[name]
        room = limit.available()
        if room < 1:
            return 0
        channel = self.channels[name]
        claim_seconds = getattr(channel, "timeout", 30.0) * 2 + 30.0
        rows = await self._db.fetch("notification_claim", name, self._worker, room, claim_seconds)
        delivered = 0
        for row in rows:
            limit.take()
            delivered += await self._send(channel, row)
        return delivered

    async def _send(self, channel: Channel, row: Row) -> int:
        key = str(row["idempotency_key"])
        try:
            await channel.send(row["content"], key)
        except DeliveryError as exc:
            await self._failed(channel, row, exc)
            return 0
        except Exception as exc:  # a bug in one channel must not stop the daemon
            log.error(
                "notification_send_crashed",
                message_id=row["id"],
                channel=channel.name,
                exc_info=exc,
            )
            await self._failed(channel, row, DeliveryError(f"internal error: {type(exc).__name__}"))
            return 0
        await self._db.execute("notification_delivered", row["id"])
        self.stats.delivered += 1
        log.info(
            "notification_delivered",
            message_id=row["id"],
            channel=channel.name,
            idempotency_key=key,
            attempts=row["attempts"] + 1,
        )
        return 1

    async def _failed(self, channel: Channel, row: Row, exc: DeliveryError) -> None:
        self.stats.attempts_failed += 1
        attempts = int(row["attempts"]) + 1
        delay = min(self.config.retry_max, self.config.retry_min * 2 ** min(attempts - 1, 20))
        delay *= 0.8 + 0.4 * self._rng.random()
        if exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self.config.retry_max))
        status = await self._db.fetchval(
            "notification_attempt_failed",
            row["id"],
            delay,
            str(exc)[:500],
            exc.permanent,
            self.config.give_up_after,
        )
        if status == "FAILED":
            log.error(
                "notification_failed",
                message_id=row["id"],
                channel=channel.name,
                error=str(exc),
                attempts=attempts,
            )
        else:
            log.warning(
                "notification_retry",
                message_id=row["id"],
                channel=channel.name,
                error=str(exc),
                attempts=attempts,
                retry_in=round(delay, 1),
            )

    # --- measuring ------------------------------------------------------------------------
    async def measure(self) -> None:
        """Refresh the depth figures the metrics show."""
        row = await self._db.fetchrow("notification_depth")
        if row is not None:
            self.stats.unrouted = int(row["unrouted"])
            self.stats.pending = int(row["pending"])
            self.stats.failed = int(row["failed"])
            self.stats.oldest_seconds = float(row["oldest_seconds"])

    def metric_families(self) -> Iterable[Metric]:
        """The outbox's metrics (sampled with the engine's)."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        stats = self.stats
        depth = GaugeMetricFamily(
            "irpd_notification_outbox_depth",
            "Notifications not yet routed, and messages waiting for delivery or FAILED",
            labels=["state"],
        )
        depth.add_metric(["unrouted"], stats.unrouted)
        depth.add_metric(["pending"], stats.pending)
        depth.add_metric(["failed"], stats.failed)
        yield depth
        yield GaugeMetricFamily(
            "irpd_notification_outbox_oldest_age_seconds",
            "Age of the oldest notification not yet delivered (0: the outbox is drained)",
            value=stats.oldest_seconds,
        )
        attempts = CounterMetricFamily(
            "irpd_notification_deliveries",
            "Delivery attempts by this daemon, by outcome",
            labels=["outcome"],
        )
        attempts.add_metric(["delivered"], stats.delivered)
        attempts.add_metric(["failed"], stats.attempts_failed)
        yield attempts
