"""Builders the composition root uses: Moody's client settings from irpd's configuration
(at start, and the circuit breaker's again on SIGHUP)."""

from __future__ import annotations

import os
from pathlib import Path

import irpd
from irpd.config import MoodysConfig
from irpd.errors import ConfigError
from irpd.moodys.circuit import CircuitSettings
from irpd.moodys.ratelimit import RateLimitSettings
from irpd.moodys.retry import RetryPolicy
from irpd.moodys.s3upload import S3Uploader
from irpd.moodys.secret import Secret
from irpd.moodys.settings import ConcurrencyLimits, MoodysSettings, Timeouts
from irpd.moodys.staging import ImportFileUploader, SkipUpload

#: the systemd credential name (``LoadCredential=moodys-api-key:...``)
CREDENTIAL_NAME = "moodys-api-key"


def api_key(config: MoodysConfig) -> Secret:
    """The API key: ``moodys.api_key`` / ``IRPD_MOODYS_API_KEY``, ``moodys.api_key_file``, or
    the systemd credential ``moodys-api-key``. Raises ConfigError naming all three."""
    if config.api_key:
        return Secret(config.api_key)
    if config.api_key_file:
        try:
            return Secret.from_file(config.api_key_file)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"moodys.api_key_file: cannot read the key: {exc}") from None
    credentials = os.environ.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL_NAME).is_file():
        return Secret.from_file(Path(credentials) / CREDENTIAL_NAME)
    raise ConfigError(
        "moodys.api_key: no API key configured; set IRPD_MOODYS_API_KEY, moodys.api_key_file, "
        f"or the systemd credential {CREDENTIAL_NAME!r}"
    )


def circuit_settings(config: MoodysConfig) -> CircuitSettings:
    """The circuit breaker's settings from ``[moodys]``: at start and on SIGHUP (the keys
    :data:`irpd.reload.MOODYS_LIVE` apply to the running breaker)."""
    return CircuitSettings(
        open_after=config.circuit_open_after,
        max_probe_interval=config.circuit_max_probe_interval,
        first_probe=min(1.0, config.circuit_max_probe_interval),
    )


def moodys_settings(config: MoodysConfig, *, worker_id: str = "") -> MoodysSettings:
    """Client settings from the ``[moodys]`` section; ``worker_id`` goes in the User-Agent."""
    return MoodysSettings(
        base_url=config.base_url,
        api_key=api_key(config),
        resource_group_id=config.resource_group_id or None,
        bearer_token=Secret(config.bearer_token) if config.bearer_token else None,
        timeouts=Timeouts(
            connect=config.connect_timeout,
            read=config.request_timeout,
            total=config.request_timeout + config.connect_timeout,
        ),
        retry=RetryPolicy(max_attempts=config.max_attempts, max_elapsed=config.max_retry_seconds),
        rate_limit=RateLimitSettings(
            initial_rate=config.requests_per_second,
            max_rate=config.max_requests_per_second,
            min_rate=min(0.2, config.requests_per_second),
        ),
        concurrency=ConcurrencyLimits(
            submissions=config.submit_concurrency,
            status_reads=config.status_concurrency,
            connections=max(32, config.submit_concurrency + config.status_concurrency),
        ),
        circuit=circuit_settings(config),
        status_batch_size=config.status_batch_size,
        verify_tls=config.verify_tls,
        user_agent=f"irpd/{irpd.__version__} ({worker_id})"
        if worker_id
        else f"irpd/{irpd.__version__}",
    )


def import_file_uploader(config: MoodysConfig) -> ImportFileUploader:
    """S3 uploads from ``moodys.import_files_dir``, or no upload when it is not set."""
    if not config.import_files_dir:
        return SkipUpload()
    directory = Path(config.import_files_dir)
    if not directory.is_dir():
        raise ConfigError(f"moodys.import_files_dir: {directory} is not a directory")
    return S3Uploader(directory, verify_tls=config.verify_tls)
