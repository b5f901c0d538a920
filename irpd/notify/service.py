"""The daemon's notifications: the outbox sender, the degraded-state watch, the admin view."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from irpd.db.database import Database
from irpd.engine.engine import Engine
from irpd.engine.health import Degradation
from irpd.engine.supervisor import Supervisor
from irpd.moodys.circuit import MoodysHealthState
from irpd.notify.admin import NotificationAdmin
from irpd.notify.delivery import build_channels, http_session
from irpd.notify.outbox import Outbox
from irpd.notify.settings import NotificationsConfig
from irpd.notify.watch import DegradedWatch


class Notifications:
    """Built by the composition root; :meth:`start` runs its two tasks."""

    def __init__(
        self,
        outbox: Outbox,
        watch: DegradedWatch,
        session: aiohttp.ClientSession | None,
        db: Database,
    ) -> None:
        self.outbox = outbox
        self.watch = watch
        self.admin = NotificationAdmin(db, outbox.wake)
        self._session = session

    @classmethod
    def build(
        cls,
        config: NotificationsConfig,
        db: Database,
        engine: Engine,
        *,
        moodys: MoodysHealthState,
        worker_id: str,
        public_url: str = "",
    ) -> Notifications:
        """Read the channels' secrets (a missing one stops start-up) and wire the parts."""
        channels, session = build_channels(config.channels, http_session)
        outbox = Outbox(db, config, channels, worker_id=worker_id, public_url=public_url)
        watch = DegradedWatch(db, degraded_after=config.degraded_after, worker_id=worker_id)
        health = engine.health
        watch.add(
            "database",
            lambda: None if health.available else f"PostgreSQL unavailable: {health.last_error}",
            "Check PostgreSQL (irpctl status, the database's own logs); irpd retries by itself.",
        )
        watch.add(
            "database_refusals",
            lambda: _refusals(health.degraded),
            "A database administrator must fix what PostgreSQL refuses (privileges, schema, "
            "constraints: see the database_degraded log events); `systemctl reload irpd` "
            "retries at once.",
        )
        watch.add(
            "moodys",
            lambda: (
                f"Moody's unreachable: {moodys.last_error}" if moodys.reachable is False else None
            ),
            "Check Moody's status page and the network; irpd probes Moody's and resumes by "
            "itself (irpctl status shows the circuit).",
        )
        watch.add(
            "moodys_authentication",
            lambda: (
                f"Moody's refuses the credentials: {moodys.auth_error}"
                if moodys.auth_ok is False
                else None
            ),
            "Replace the API key (moodys.api_key_file or the moodys-api-key credential) and "
            "restart irpd; nothing is submitted until then.",
        )
        return cls(outbox, watch, session, db)

    def start(self, supervisor: Supervisor) -> None:
        """Start the sender and the watch."""
        supervisor.start("notifications", self.outbox.run())
        supervisor.start("degraded_watch", self.watch.run())

    async def close(self) -> None:
        """Close the webhooks' HTTP session."""
        if self._session is not None:
            await self._session.close()


def _refusals(degraded: Mapping[str, Degradation]) -> str | None:
    """Why the database is degraded (statements it keeps refusing), or None."""
    if not degraded:
        return None
    first = next(iter(degraded.values()))
    more = f" and {len(degraded) - 1} more" if len(degraded) > 1 else ""
    return f"PostgreSQL refuses {first.query} ({first.sqlstate}): {first.error}{more}"[:500]
