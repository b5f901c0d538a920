"""``[notifications]``: channels, routes and delivery tuning (pure dataclasses and checks).

Loaded by :mod:`irpd.config` like every section; channels and routes are lists of tables::

    [[notifications.channels]]
    name = "ops-teams"
    type = "teams"
    url_env = "IRPD_TEAMS_WEBHOOK_URL"

    [[notifications.routes]]
    channels = ["ops-teams"]
    kinds = ["batch_failed", "job_needs_operator"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

CHANNEL_TYPES: Final = ("teams", "slack", "webhook", "email")
SEVERITIES: Final = ("info", "warning", "critical")
KINDS: Final = (
    "batch_completed",
    "batch_failed",
    "batch_cancelled",
    "job_needs_operator",
    "step_started",
    "step_finished",
    "daemon_degraded",
    "daemon_recovered",
)


@dataclass(frozen=True, slots=True)
class ChannelConfig:
    """Where messages go: a Teams or Slack incoming webhook, a signed JSON webhook, e-mail."""

    name: str = ""
    type: str = ""
    #: the webhook URL (Teams and Slack URLs carry a token: prefer url_env or url_file)
    url: str = field(default="", repr=False)
    url_env: str = ""
    url_file: str = ""
    #: webhook: the HMAC-SHA256 key, from a file or an environment variable (never logged)
    secret_file: str = ""
    secret_env: str = ""
    #: messages per minute at most (a digest counts as one)
    rate_per_minute: float = 20.0
    timeout: float = 10.0
    #: e-mail through SMTP
    smtp_host: str = ""
    smtp_port: int = 587
    starttls: bool = True
    ca_file: str = ""
    username: str = ""
    password_file: str = ""
    password_env: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RouteConfig:
    """Which notifications go to which channels (empty kinds/cycles: all)."""

    channels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    cycles: tuple[str, ...] = ()
    min_severity: str = "info"


@dataclass(frozen=True, slots=True)
class NotificationsConfig:
    """The outbox sender's channels, routes and pacing."""

    channels: tuple[ChannelConfig, ...] = ()
    routes: tuple[RouteConfig, ...] = ()
    #: a burst is routed once no notification arrived for this many seconds...
    gather: float = 5.0
    #: ...or once its oldest notification is this old
    max_gather: float = 60.0
    #: more than this many notifications for one channel at once become one digest message
    digest_threshold: int = 3
    retry_min: float = 5.0
    retry_max: float = 600.0
    #: a message not delivered after this many seconds is FAILED (irpctl notifications resend)
    give_up_after: float = 86400.0
    #: seconds between two looks at the outbox
    poll_interval: float = 1.0
    #: a degraded state (database, Moody's) is notified once it lasted this many seconds
    degraded_after: float = 60.0


def notification_problems(config: NotificationsConfig) -> list[str]:
    """What is wrong with ``[notifications]``, each naming its key (empty: fine)."""
    problems: list[str] = []
    names: set[str] = set()
    for index, channel in enumerate(config.channels):
        where = f"notifications.channels[{index}]"
        problems.extend(_channel_problems(channel, where))
        if channel.name in names:
            problems.append(f"{where}.name: {channel.name!r} is used twice")
        names.add(channel.name)
    for index, route in enumerate(config.routes):
        where = f"notifications.routes[{index}]"
        if not route.channels:
            problems.append(f"{where}.channels: name at least one channel")
        problems.extend(
            f"{where}.channels: no channel named {name!r}"
            for name in route.channels
            if name not in names
        )
        problems.extend(
            f"{where}.kinds: unknown kind {kind!r} (known: {list(KINDS)})"
            for kind in route.kinds
            if kind not in KINDS
        )
        if route.min_severity not in SEVERITIES:
            problems.append(f"{where}.min_severity: must be one of {list(SEVERITIES)}")
    positive = {
        "gather": config.gather >= 0,
        "max_gather": config.max_gather >= config.gather,
        "digest_threshold": config.digest_threshold >= 1,
        "retry_min": config.retry_min > 0,
        "retry_max": config.retry_max >= config.retry_min,
        "give_up_after": config.give_up_after > 0,
        "poll_interval": config.poll_interval > 0,
        "degraded_after": config.degraded_after >= 0,
    }
    problems.extend(
        f"notifications.{key}: out of range (see irpd.toml)"
        for key, ok in positive.items()
        if not ok
    )
    return problems


def _channel_problems(channel: ChannelConfig, where: str) -> list[str]:
    problems: list[str] = []
    if not channel.name:
        problems.append(f"{where}.name: give the channel a name")
    if channel.type not in CHANNEL_TYPES:
        problems.append(f"{where}.type: must be one of {list(CHANNEL_TYPES)}, got {channel.type!r}")
    if channel.type == "email":
        if not channel.smtp_host:
            problems.append(f"{where}.smtp_host: required for an email channel")
        if not channel.sender or not channel.recipients:
            problems.append(f"{where}.sender/recipients: required for an email channel")
    elif channel.type in CHANNEL_TYPES:
        sources = [s for s in (channel.url, channel.url_env, channel.url_file) if s]
        if len(sources) != 1:
            problems.append(f"{where}.url: set exactly one of url, url_env, url_file")
        elif channel.url and not channel.url.startswith(("http://", "https://")):
            problems.append(f"{where}.url: must be an http(s) URL")
    if channel.rate_per_minute <= 0 or channel.timeout <= 0:
        problems.append(f"{where}.rate_per_minute/timeout: must be positive")
    return problems
