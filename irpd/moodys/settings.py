"""The client's configuration: one frozen dataclass, validated on construction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

from irpd.errors import ConfigError
from irpd.moodys.circuit import CircuitSettings
from irpd.moodys.ratelimit import RateLimitSettings
from irpd.moodys.retry import RetryPolicy
from irpd.moodys.secret import Secret

#: Moody's data-centre hosts (spec §1)
BASE_URLS: Final[Mapping[str, str]] = MappingProxyType(
    {"eu": "https://api-euw1.rms.com", "us": "https://api-use1.rms.com"}
)
MAX_STATUS_BATCH: Final = 1000
_LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Per-request timeouts in seconds (``total`` covers connect, send and the whole body)."""

    connect: float = 10.0
    read: float = 60.0
    total: float = 90.0

    def __post_init__(self) -> None:
        if min(self.connect, self.read, self.total) <= 0:
            raise ConfigError("timeouts must be positive")


@dataclass(frozen=True, slots=True)
class ConcurrencyLimits:
    """Requests in flight at once: submissions (POST/DELETE/PATCH) and reads, separately."""

    submissions: int = 8
    status_reads: int = 16
    connections: int = 32

    def __post_init__(self) -> None:
        if min(self.submissions, self.status_reads, self.connections) < 1:
            raise ConfigError("concurrency limits must be at least 1")


@dataclass(frozen=True, slots=True)
class MoodysSettings:
    """Everything the client needs; ``api_key`` is a :class:`Secret` (repr ``'***'``).

    ``bearer_token``, when set, is sent instead of the API key. ``verify_tls=False`` exists
    for tests only; plain ``http://`` is accepted only for loopback hosts (the fake server).
    """

    base_url: str
    api_key: Secret
    resource_group_id: str | None = None
    bearer_token: Secret | None = None
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    rate_limit: RateLimitSettings = field(default_factory=RateLimitSettings)
    concurrency: ConcurrencyLimits = field(default_factory=ConcurrencyLimits)
    circuit: CircuitSettings = field(default_factory=CircuitSettings)
    status_batch_size: int = 100
    reference_cache_ttl: float = 3600.0
    reference_cache_size: int = 1024
    user_agent: str = "irpd-moodys-client/0.1"
    verify_tls: bool = True

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ConfigError(f"moodys base_url {self.base_url!r} is not an http(s) URL")
        if parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
            raise ConfigError("moodys base_url must use https (http only for loopback hosts)")
        if not 1 <= self.status_batch_size <= MAX_STATUS_BATCH:
            raise ConfigError(f"status_batch_size must be within 1..{MAX_STATUS_BATCH}")
        if self.reference_cache_ttl < 0 or self.reference_cache_size < 1:
            raise ConfigError("reference cache ttl must be >= 0 and size >= 1")

    @property
    def root(self) -> str:
        """The base URL without a trailing slash."""
        return self.base_url.rstrip("/")
