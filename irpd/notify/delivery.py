"""Sending one message to one channel: HTTP webhooks (aiohttp) and e-mail (aiosmtplib).

Every attempt carries the message's ``Idempotency-Key`` (an HTTP header; the e-mail's
``Message-ID``). Failures are :class:`DeliveryError`: ``permanent`` ones (a 4xx other than
408/425/429, an SMTP 5xx, a refused recipient) are not retried. Secrets (webhook URLs, the HMAC
key, the SMTP password) are read once at start and never appear in an error or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import aiosmtplib

from irpd.errors import ConfigError
from irpd.notify.formats import email_message, slack_blocks, teams_card, webhook_body
from irpd.notify.settings import ChannelConfig

SIGNATURE_HEADER = "X-Irpd-Signature"


class DeliveryError(Exception):
    """A delivery attempt failed; ``permanent``: trying again will not help."""

    def __init__(
        self, message: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    """Something that delivers a message's content."""

    name: str
    rate_per_minute: float

    async def send(self, content: dict[str, Any], key: str) -> None:
        """Deliver once, or raise :class:`DeliveryError`."""

    async def close(self) -> None:
        """Release connections."""


def read_secret(value: str, env: str, file: str, where: str) -> str:
    """The secret from ``value``, the variable ``env`` or the file ``file`` ('' if none)."""
    if env:
        if not os.environ.get(env):
            raise ConfigError(f"{where}: environment variable {env} is not set")
        return os.environ[env].strip()
    if file:
        try:
            return Path(file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read {file}: {exc.strerror}") from None
    return value


def _retry_after(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


@dataclass
class HttpChannel:
    """A Teams, Slack or generic webhook."""

    name: str
    kind: str
    url: str
    rate_per_minute: float
    timeout: float
    session: aiohttp.ClientSession
    secret: bytes | None = None

    def render(self, content: dict[str, Any], key: str) -> bytes:
        """The request body for this channel type."""
        if self.kind == "teams":
            return json.dumps(teams_card(content)).encode()
        if self.kind == "slack":
            return json.dumps(slack_blocks(content)).encode()
        return webhook_body(content, key, self.name)

    async def send(self, content: dict[str, Any], key: str) -> None:
        body = self.render(content, key)
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if self.secret is not None:
            digest = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
        try:
            async with self.session.post(
                self.url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(self.timeout)
            ) as response:
                await response.read()
                status = response.status
                retry_after = _retry_after(response.headers.get("Retry-After"))
        except TimeoutError:
            raise DeliveryError(f"no answer within {self.timeout:g} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            # the URL may hold a token: name the error type only
            raise DeliveryError(f"connection failed ({type(exc).__name__})") from None
        if 200 <= status < 300:
            return
        permanent = 400 <= status < 500 and status not in (408, 425, 429)
        raise DeliveryError(f"HTTP {status}", permanent=permanent, retry_after=retry_after)

    async def close(self) -> None:
        """The session is shared: closed by its owner."""


@dataclass
class EmailChannel:
    """E-mail through an SMTP server (STARTTLS unless ``starttls = false``)."""

    name: str
    config: ChannelConfig
    password: str
    rate_per_minute: float

    async def send(self, content: dict[str, Any], key: str) -> None:
        config = self.config
        message = email_message(content, key, config.sender, config.recipients)
        context = ssl.create_default_context(cafile=config.ca_file or None)
        try:
            await aiosmtplib.send(
                message,
                hostname=config.smtp_host,
                port=config.smtp_port,
                start_tls=config.starttls,
                tls_context=context if config.starttls else None,
                username=config.username or None,
                password=self.password or None,
                timeout=config.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(r.recipient for r in exc.recipients)
            raise DeliveryError(f"recipients refused: {refused}"[:300], permanent=True) from None
        except aiosmtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.code < 600
            text = f"SMTP {exc.code}: {exc.message}"[:300]
            raise DeliveryError(text, permanent=permanent) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP failed ({type(exc).__name__}: {exc})"[:300]) from None

    async def close(self) -> None:
        """Nothing kept open between messages."""


def build_channels(
    configs: tuple[ChannelConfig, ...], session_factory: Any
) -> tuple[dict[str, Channel], aiohttp.ClientSession | None]:
    """Channels by name (secrets read now; a missing one is a :class:`ConfigError`), and the
    HTTP session they share (None when no HTTP channel is configured)."""
    channels: dict[str, Channel] = {}
    session: aiohttp.ClientSession | None = None
    for index, config in enumerate(configs):
        where = f"notifications.channels[{index}] ({config.name})"
        if config.type == "email":
            password = read_secret("", config.password_env, config.password_file, where)
            channels[config.name] = EmailChannel(
                config.name, config, password, config.rate_per_minute
            )
            continue
        url = read_secret(config.url, config.url_env, config.url_file, where)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"{where}: the webhook URL must be an http(s) URL")
        secret = read_secret("", config.secret_env, config.secret_file, where)
        if session is None:
            session = session_factory()
        channels[config.name] = HttpChannel(
            config.name,
            config.type,
            url,
            config.rate_per_minute,
            config.timeout,
            session,
            secret.encode() if secret else None,
        )
    return channels, session


def http_session() -> aiohttp.ClientSession:
    """The session the webhook channels share (call inside the running event loop)."""
    return aiohttp.ClientSession(headers={"User-Agent": "irpd-notifications"})
