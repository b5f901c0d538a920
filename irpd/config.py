"""irpd.toml → frozen dataclasses; every key can be overridden by ``IRPD_<SECTION>_<KEY>``.

Unknown sections or keys and values of the wrong type stop start-up with a :class:`ConfigError`
that names the file (or variable) and the key; so does an ``IRPD_<SECTION>_…`` variable that
names no key of a known section (a typo must not be silently ignored). An empty path means the
built-in default. Defaults are sane for a single host: with no
``database.dsn`` irpd runs an embedded PostgreSQL in its state directory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from irpd.errors import ConfigError
from irpd.notify.settings import NotificationsConfig, notification_problems

ENV_PREFIX = "IRPD_"


def default_state_dir() -> Path:
    """``$STATE_DIRECTORY`` (systemd), else ``$XDG_STATE_HOME/irpd`` or ``~/.local/state/irpd``."""
    if os.environ.get("STATE_DIRECTORY"):
        return Path(os.environ["STATE_DIRECTORY"].split(":")[0])
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "irpd"


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    """Where the source of truth lives."""

    dsn: str = field(default="", repr=False)
    name: str = "irpd"
    pool_min_size: int = 2
    pool_max_size: int = 10
    command_timeout: float = 30.0
    migrate_on_start: bool = True
    #: start-up retries an unreachable or read-only database, backing off up to this
    connect_retry_max: float = 15.0


@dataclass(frozen=True, slots=True)
class StateConfig:
    """The daemon's private directory (embedded database, runtime files)."""

    dir: Path = field(default_factory=default_state_dir)


@dataclass(frozen=True, slots=True)
class MoodysConfig:
    """How to reach Moody's IRP (or the fake server)."""

    base_url: str = "https://api-euw1.rms.com"
    api_key: str = field(default="", repr=False)
    api_key_file: str = ""
    #: where MRI import files are read from and uploaded to Moody's S3 staging;
    #: empty: no upload (the fake server, or imports staged by other means)
    import_files_dir: str = ""
    bearer_token: str = field(default="", repr=False)
    resource_group_id: str = ""
    #: the most submissions in flight; an adaptive limit below it (starting at 8) follows
    #: Moody's latency and errors. 200: at ~0.2 s per POST that is up to 1,000/s, 1.5 x the
    #: 667/s of 10,000 in 15 s; the rate limiter bounds it first (rate x latency: 100 at
    #: 500/s, 400 at 2,000/s). See docs/moodys-client.md.
    submit_concurrency: int = 200
    #: the most status requests in flight (an adaptive limit below it follows Moody's latency)
    status_concurrency: int = 16
    #: ids per status request, up to what an 8,000-byte URL holds (irpd.moodys.workflows)
    status_batch_size: int = 1000
    request_timeout: float = 30.0
    connect_timeout: float = 10.0
    max_attempts: int = 6
    max_retry_seconds: float = 120.0
    #: the adaptive limiter's starting and highest rate: it doubles per second's worth of
    #: successes until Moody's first pushes back (slow start), a 429 halves it for every
    #: caller, then it grows by 0.1 per success (irpd.moodys.ratelimit).
    requests_per_second: float = 500.0
    max_requests_per_second: float = 2000.0
    verify_tls: bool = True
    #: Moody's unreachable (connection failures, timeouts, 5xx) on this many requests in a
    #: row: the circuit opens and only a probe is sent, at intervals growing to ...
    circuit_open_after: int = 5
    #: ... at most this many seconds; the first answer closes the circuit
    circuit_max_probe_interval: float = 30.0


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Dispatcher, tracker and reconciler tuning."""

    worker_id: str = ""
    dispatch_batch_size: int = 500
    dispatch_idle_interval: float = 1.0
    poll_min_interval: float = 5.0
    poll_max_interval: float = 300.0
    poll_growth: float = 1.5
    poll_jitter: float = 0.1
    tracker_tick: float = 0.5
    recovery_spread: float = 30.0
    max_polls_per_second: float = 5000.0
    operator_yield: float = 0.25
    reconcile_debounce: float = 0.5
    drain_timeout: float = 20.0
    lease_ttl: float = 15.0
    db_retry_max_interval: float = 10.0
    #: seconds Moody's may answer status lookups without a job's workflow before the job
    #: becomes ERROR ("unknown to Moody's"), counted from the first such answer
    lost_workflow_after: float = 900.0


@dataclass(frozen=True, slots=True)
class ControlConfig:
    """The Unix control socket operators reach with ``irpctl``."""

    socket: str = ""
    socket_mode: int = 0o660
    allowed_uids: tuple[int, ...] = ()
    allowed_groups: tuple[str, ...] = ()
    max_request_bytes: int = 1_048_576
    request_timeout: float = 30.0
    max_clients: int = 64


@dataclass(frozen=True, slots=True)
class WebConfig:
    """The web console and HTTP API (``irpd web``), a process of its own."""

    listen: str = "127.0.0.1:8457"
    #: the console's address as users reach it (e.g. https://irpd.example.com): links in
    #: notifications; empty: messages carry no links
    public_url: str = ""
    #: role of a request that is not logged in: "" (log in first), "viewer" or "operator"
    anonymous_role: str = ""
    #: TOML file of built-in accounts ([users.NAME] role, password_hash) and API tokens
    #: ([tokens.NAME] role, token_sha256); see docs/web.md
    accounts_file: str = ""
    #: header carrying the user name set by a trusted reverse proxy ("" disables it)
    proxy_user_header: str = ""
    #: header carrying the role ("viewer" or "operator"); absent: viewer
    proxy_role_header: str = ""
    #: addresses (or networks) of the reverse proxies whose headers are believed
    trusted_proxies: tuple[str, ...] = ()
    #: file holding the key that signs session cookies; empty: a new key at each start
    session_key_file: str = ""
    session_hours: float = 12.0
    #: mark cookies Secure even on plain HTTP (they always are behind https)
    cookie_secure: bool = False
    pool_max_size: int = 4
    page_size: int = 100


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    """structlog output."""

    level: str = "info"
    format: str = "auto"
    aggregate_interval: float = 10.0


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """The Prometheus endpoint (``GET /metrics``, docs/monitoring.md)."""

    #: host:port to serve on (e.g. 127.0.0.1:9464); empty: no endpoint
    listen: str = ""
    #: seconds between the small database reads behind the job and batch counts
    database_refresh: float = 15.0
    #: seconds an in-flight job may keep its status before it counts as stuck
    #: (``irpd_jobs_over_expected_run_time``, alert ``IrpdJobsStuck``) ...
    expected_run_time: float = 7200.0
    #: ... or, for the batch types listed, ``"BATCH_TYPE=SECONDS"`` each
    expected_run_times: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration of one irpd process."""

    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    state: StateConfig = field(default_factory=StateConfig)
    moodys: MoodysConfig = field(default_factory=MoodysConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    control: ControlConfig = field(default_factory=ControlConfig)
    web: WebConfig = field(default_factory=WebConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    notifications: NotificationsConfig = field(default_factory=NotificationsConfig)

    @property
    def socket_path(self) -> Path:
        """The control socket: configured, else ``$RUNTIME_DIRECTORY`` or the state dir."""
        if self.control.socket:
            return Path(self.control.socket)
        if os.environ.get("RUNTIME_DIRECTORY"):
            return Path(os.environ["RUNTIME_DIRECTORY"].split(":")[0]) / "irpd.sock"
        return self.state.dir / "irpd.sock"


_LEVELS = ("debug", "info", "warning", "error")
_FORMATS = ("auto", "json", "console")


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _to_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise ConfigError(f"{where}: expected true or false, got {value!r}")


def _to_int(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        if isinstance(value, str):
            return int(value, 0)
    except ValueError:
        pass
    raise ConfigError(f"{where}: expected an integer, got {value!r}")


def _to_float(value: Any, where: str) -> float:
    number: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            number = float(value)
    if number is None or not math.isfinite(number):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    return number


def _to_path(value: Any, where: str) -> Path:
    if isinstance(value, str) and value:
        return Path(value).expanduser()
    raise ConfigError(f"{where}: expected a path, got {value!r}")


def _to_str(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    raise ConfigError(f"{where}: expected a string, got {value!r}")


_CONVERTERS: dict[Any, Any] = {
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    Path: _to_path,
    str: _to_str,
}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    """Convert a TOML or environment value to the field's type, or raise naming ``where``."""
    if get_origin(hint) is tuple:
        item_type = get_args(hint)[0]
        if isinstance(item_type, type) and dataclasses.is_dataclass(item_type):
            return _tables(value, item_type, where)
        items = [p.strip() for p in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(_coerce(item, item_type, where) for item in items if item != "")
    return _CONVERTERS[hint](value, where)


def _tables(value: Any, cls: type[Any], where: str) -> tuple[Any, ...]:
    """A list of tables (``[[section.key]]`` in the file), each checked like a section."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ConfigError(f"{where}: expected a list of tables ([[...]] in the file)")
    return tuple(_section(cls, item, {}, f"#{n}", where) for n, item in enumerate(value))


def _section(
    cls: type[Any], raw: Mapping[str, Any], env: Mapping[str, str], name: str, source: str
) -> Any:
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{source}: unknown key [{name}] {unknown[0]!r} (known: {sorted(known)})")
    prefix = f"{ENV_PREFIX}{name}_".upper()
    stray = sorted(v for v in env if v.startswith(prefix) and v[len(prefix) :].lower() not in known)
    if stray:
        raise ConfigError(
            f"environment variable {stray[0]}: unknown key [{name}] "
            f"{stray[0][len(prefix) :].lower()!r} (known: {sorted(known)})"
        )
    values: dict[str, Any] = {}
    for key in known:
        variable = f"{ENV_PREFIX}{name}_{key}".upper()
        if variable in env:
            value, where = env[variable], f"environment variable {variable}"
        elif key in raw:
            value, where = raw[key], f"{source}: [{name}] {key}"
        else:
            continue
        if hints[key] is Path and value == "":
            continue  # an empty path means the built-in default (e.g. $STATE_DIRECTORY)
        values[key] = _coerce(value, hints[key], where)
    return cls(**values)


def _check(config: Config) -> None:
    """Values that parse but make no sense stop start-up naming their key."""
    _check_positive(config)
    _check_ranges(config)
    _check_formats(config)
    problems = notification_problems(config.notifications)
    if problems:
        raise ConfigError(problems[0])


def _check_positive(config: Config) -> None:
    positive = {
        "database.pool_min_size": config.database.pool_min_size,
        "database.pool_max_size": config.database.pool_max_size,
        "database.connect_retry_max": config.database.connect_retry_max,
        "moodys.submit_concurrency": config.moodys.submit_concurrency,
        "moodys.status_concurrency": config.moodys.status_concurrency,
        "moodys.max_attempts": config.moodys.max_attempts,
        "moodys.requests_per_second": config.moodys.requests_per_second,
        "moodys.request_timeout": config.moodys.request_timeout,
        "engine.dispatch_batch_size": config.engine.dispatch_batch_size,
        "engine.poll_min_interval": config.engine.poll_min_interval,
        "engine.tracker_tick": config.engine.tracker_tick,
        "engine.drain_timeout": config.engine.drain_timeout,
        "engine.lease_ttl": config.engine.lease_ttl,
        "engine.lost_workflow_after": config.engine.lost_workflow_after,
        "control.max_request_bytes": config.control.max_request_bytes,
        "control.request_timeout": config.control.request_timeout,
        "control.max_clients": config.control.max_clients,
        "moodys.connect_timeout": config.moodys.connect_timeout,
        "moodys.circuit_open_after": config.moodys.circuit_open_after,
        "moodys.circuit_max_probe_interval": config.moodys.circuit_max_probe_interval,
        "logging.aggregate_interval": config.logging.aggregate_interval,
        "metrics.database_refresh": config.metrics.database_refresh,
        "metrics.expected_run_time": config.metrics.expected_run_time,
        "web.session_hours": config.web.session_hours,
        "web.pool_max_size": config.web.pool_max_size,
        "web.page_size": config.web.page_size,
    }
    for key, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{key}: must be positive, got {value}")


def _check_ranges(config: Config) -> None:
    if not 0 <= config.control.socket_mode <= 0o777:
        raise ConfigError(
            f"control.socket_mode: must be a permission mode such as 0o660, "
            f"got {config.control.socket_mode!r}"
        )
    if config.database.pool_min_size > config.database.pool_max_size:
        raise ConfigError("database.pool_min_size: must not exceed database.pool_max_size")
    if config.moodys.max_requests_per_second < config.moodys.requests_per_second:
        raise ConfigError("moodys.max_requests_per_second: must be >= moodys.requests_per_second")
    if not 1 <= config.moodys.status_batch_size <= 1000:
        raise ConfigError("moodys.status_batch_size: must be between 1 and 1000")
    if config.engine.poll_max_interval < config.engine.poll_min_interval:
        raise ConfigError("engine.poll_max_interval: must be >= engine.poll_min_interval")
    if config.engine.poll_growth < 1:
        raise ConfigError(f"engine.poll_growth: must be >= 1, got {config.engine.poll_growth}")
    if config.engine.operator_yield < 0:
        wait = config.engine.operator_yield
        raise ConfigError(f"engine.operator_yield: must be >= 0 (0: never wait), got {wait}")
    if not 0 <= config.engine.poll_jitter < 1:
        raise ConfigError(f"engine.poll_jitter: must be in [0, 1), got {config.engine.poll_jitter}")


def _check_formats(config: Config) -> None:
    if config.logging.level.lower() not in _LEVELS:
        raise ConfigError(
            f"logging.level: must be one of {list(_LEVELS)}, got {config.logging.level!r}"
        )
    if config.logging.format not in _FORMATS:
        raise ConfigError(
            f"logging.format: must be one of {list(_FORMATS)}, got {config.logging.format!r}"
        )
    if not config.moodys.base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"moodys.base_url: must be an http(s) URL, got {config.moodys.base_url!r}"
        )
    if config.web.public_url and not config.web.public_url.startswith(("http://", "https://")):
        raise ConfigError(f"web.public_url: must be an http(s) URL, got {config.web.public_url!r}")
    if config.metrics.listen:
        listen_address(config.metrics.listen, "metrics.listen")
    expected_run_times(config.metrics)
    if config.database.dsn and not config.database.dsn.startswith(("postgres://", "postgresql://")):
        raise ConfigError("database.dsn: must be a postgresql:// URI")


def expected_run_times(config: MetricsConfig) -> dict[str, float]:
    """``metrics.expected_run_times`` as {batch type: seconds}, or a ConfigError naming the
    entry (the other batch types expect ``metrics.expected_run_time``)."""
    found: dict[str, float] = {}
    for entry in config.expected_run_times:
        batch_type, _, seconds = entry.partition("=")
        try:
            value = float(seconds)
        except ValueError:
            value = 0.0
        if not batch_type.strip() or not value > 0 or batch_type.strip() in found:
            raise ConfigError(
                "metrics.expected_run_times: each entry must be BATCH_TYPE=SECONDS (seconds "
                f"positive, each batch type once), got {entry!r}"
            )
        found[batch_type.strip()] = value
    return found


def listen_address(value: str, where: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6) as (host, port), or a ConfigError."""
    host, sep, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{where}: expected host:port such as 127.0.0.1:9464, got {value!r}")
    return host, int(port)


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read ``path`` (optional), then apply ``IRPD_*`` overrides from ``env`` (os.environ)."""
    environ = os.environ if env is None else env
    raw: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        source = str(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{source}: configuration file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    sections = {f.name: f.type for f in dataclasses.fields(Config)}
    hints = get_type_hints(Config)
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise ConfigError(f"{source}: unknown section [{unknown[0]}] (known: {sorted(sections)})")
    values: dict[str, Any] = {}
    for name in sections:
        section_raw = raw.get(name, {})
        if not isinstance(section_raw, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        values[name] = _section(hints[name], section_raw, environ, name, source)
    config = Config(**values)
    _check(config)
    return config


def describe(config: Config) -> dict[str, dict[str, Any]]:
    """The configuration as plain data with secrets masked (for logs and ``irpctl status``)."""
    out: dict[str, dict[str, Any]] = {}
    for section in dataclasses.fields(config):
        values = dataclasses.asdict(getattr(config, section.name))
        for secret in ("dsn", "api_key", "bearer_token"):
            if values.get(secret):
                values[secret] = "***"
        for channel in values.get("channels", ()):
            if channel.get("url"):
                channel["url"] = "***"
        out[section.name] = {k: str(v) if isinstance(v, Path) else v for k, v in values.items()}
    return out
