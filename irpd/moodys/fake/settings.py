"""Frozen settings of the fake Moody's server, its fault rules and scripted outcomes.

Everything here is plain data. ``from_mapping`` builds each type from JSON/TOML-shaped
dictionaries and names the offending key when something is wrong.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from irpd.errors import ConfigError
from irpd.moodys.fake.timeline import FAILED, FINISHED

Range = tuple[float, float]

#: the workflow ``type`` strings the fake's RM endpoints create
WORKFLOW_TYPES = (
    "CREATE_EDM",
    "MRI_IMPORT",
    "GEOHAZ",
    "ANALYTICS_JOB",
    "GROUPING",
    "EXPORT_RDM",
    "USER_DEFINED",
)


class SettingsError(ConfigError):
    """The fake's settings, faults, catalogue or script file are invalid."""

    kind = "FakeSettingsError"


@dataclass(frozen=True, slots=True)
class StageDurations:
    """Simulated seconds (min, max) a workflow of one type spends in each stage.

    ``queued`` is the minimum time before admission; the quota may keep it longer.
    """

    queued: Range
    pending: Range
    running: Range


@dataclass(frozen=True, slots=True)
class CancelDurations:
    """Simulated seconds (min, max) spent in CANCEL_REQUESTED and in CANCELLING."""

    requested: Range = (1.0, 5.0)
    cancelling: Range = (5.0, 30.0)


DEFAULT_DURATIONS: Mapping[str, StageDurations] = MappingProxyType(
    {
        "CREATE_EDM": StageDurations((1, 10), (5, 20), (60, 300)),
        "MRI_IMPORT": StageDurations((1, 10), (5, 30), (300, 1200)),
        "GEOHAZ": StageDurations((1, 10), (5, 30), (300, 1800)),
        "ANALYTICS_JOB": StageDurations((1, 20), (10, 60), (900, 3600)),
        "GROUPING": StageDurations((1, 10), (5, 30), (120, 900)),
        "EXPORT_RDM": StageDurations((1, 10), (5, 30), (300, 1200)),
        "USER_DEFINED": StageDurations((1, 20), (10, 60), (900, 3600)),
    }
)

#: Platform job types timed like an RM workflow type
DURATION_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "DLM": "ANALYTICS_JOB",
        "HD": "ANALYTICS_JOB",
        "ALM": "ANALYTICS_JOB",
        "DOWNLOAD_RDM": "EXPORT_RDM",
    }
)


#: fault kinds that replace the normal answer (one roll decides among them)
EXCLUSIVE_FAULTS = (
    "hang_rate",
    "html_error_rate",
    "error_rate",
    "rate_limit_rate",
    "rate_limit_bare_rate",
    "drop_after_record_rate",
    "malformed_json_rate",
    "truncated_json_rate",
    "not_ready_rate",
)


@dataclass(frozen=True, slots=True)
class Faults:
    """One fault rule: which requests it touches (scope) and how often each fault fires.

    The exclusive faults (everything but latency) share one roll per request, so their
    rates must add up to at most 1. Latency is added independently.
    """

    methods: tuple[str, ...] = ()
    path_prefixes: tuple[str, ...] = ()
    seed: int | None = None
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    rate_limit_rate: float = 0.0
    retry_after_seconds: float = 1.0
    rate_limit_bare_rate: float = 0.0
    html_error_rate: float = 0.0
    html_error_status: int = 502
    hang_rate: float = 0.0
    hang_seconds: float = 600.0
    latency_seconds: float = 0.0
    latency_rate: float = 1.0
    drop_after_record_rate: float = 0.0
    malformed_json_rate: float = 0.0
    truncated_json_rate: float = 0.0
    not_ready_rate: float = 0.0

    def __post_init__(self) -> None:
        for name in (*EXCLUSIVE_FAULTS, "latency_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise SettingsError(f"faults.{name} must be within 0..1, got {rate}")
        if sum(getattr(self, name) for name in EXCLUSIVE_FAULTS) > 1.0 + 1e-9:
            raise SettingsError("faults: the exclusive fault rates add up to more than 1")
        if self.error_rate and not self.error_statuses:
            raise SettingsError("faults.error_statuses must not be empty")
        if min(self.retry_after_seconds, self.hang_seconds, self.latency_seconds) < 0:
            raise SettingsError("faults: durations must not be negative")

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to a request."""
        if self.methods and method.upper() not in self.methods:
            return False
        return not self.path_prefixes or path.startswith(self.path_prefixes)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "faults") -> Faults:
        """Build a rule from a JSON object."""
        values = _known_fields(cls, data, where)
        for key in ("methods", "path_prefixes"):
            if key in values:
                values[key] = _str_tuple(values[key], f"{where}.{key}")
        if "methods" in values:
            values["methods"] = tuple(m.upper() for m in values["methods"])
        if "error_statuses" in values:
            values["error_statuses"] = tuple(
                int(v) for v in _list(values["error_statuses"], f"{where}.error_statuses")
            )
        for key, value in list(values.items()):
            if key.endswith(("_rate", "_seconds")):
                values[key] = _number(value, f"{where}.{key}")
        return cls(**values)

    def to_mapping(self) -> dict[str, Any]:
        """The JSON object ``from_mapping`` reads back."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ScriptedOutcome:
    """A forced outcome for workflows of one name (``times`` None: every one)."""

    name: str
    outcome: str = FAILED
    message: str | None = None
    times: int | None = None

    def __post_init__(self) -> None:
        if self.outcome not in (FAILED, FINISHED):
            raise SettingsError(f"script outcome must be FAILED or FINISHED, got {self.outcome}")
        if self.times is not None and self.times < 1:
            raise SettingsError("script times must be at least 1")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "script") -> ScriptedOutcome:
        """Build from ``{"name", "outcome", "message", "times"}``."""
        values = _known_fields(cls, data, where)
        if not isinstance(values.get("name"), str) or not values["name"]:
            raise SettingsError(f"{where}.name is required")
        return cls(**values)


@dataclass(frozen=True, slots=True)
class FakeSettings:
    """Everything the fake server is started with; see ``irpd fake-moodys --help``."""

    host: str = "127.0.0.1"
    port: int = 0
    seed: int = 0
    time_scale: float = 60.0
    start_time: str | None = None
    api_keys: tuple[str, ...] = ("fake-api-key",)
    forbidden_keys: tuple[str, ...] = ()
    tenant_name: str = "fake-tenant"
    user_name: str = "irpd@fake.example"
    quota: int | None = None
    failure_rate: float = 0.0
    durations: Mapping[str, StageDurations] = field(default_factory=lambda: DEFAULT_DURATIONS)
    cancel_durations: CancelDurations = field(default_factory=CancelDurations)
    faults: tuple[Faults, ...] = ()
    scripts: tuple[ScriptedOutcome, ...] = ()
    strict_references: bool = False
    catalogue_path: str | None = None
    max_limit: int = 1000
    default_limit: int = 100
    first_workflow_id: int = 22_800_001
    idempotency_ttl_seconds: float = 86_400.0
    request_log_limit: int = 200_000
    max_request_line: int = 32_768
    public_base_url: str | None = None

    def __post_init__(self) -> None:
        if not self.api_keys:
            raise SettingsError("api_keys must hold at least one key")
        if self.time_scale < 0:
            raise SettingsError("time_scale must not be negative")
        if self.quota is not None and self.quota < 0:
            raise SettingsError("quota must be >= 0 (0 pauses admission), or null for no quota")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise SettingsError("failure_rate must be within 0..1")
        if not 1 <= self.default_limit <= self.max_limit:
            raise SettingsError("default_limit must be within 1..max_limit")

    @property
    def api_key(self) -> str:
        """The first accepted key (what in-process tests send)."""
        return self.api_keys[0]

    def durations_for(self, workflow_type: str) -> StageDurations:
        """Stage durations of a workflow type (unknown types time like USER_DEFINED)."""
        key = DURATION_ALIASES.get(workflow_type, workflow_type)
        return (
            self.durations.get(key)
            or self.durations.get("USER_DEFINED")
            or (DEFAULT_DURATIONS["USER_DEFINED"])
        )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "settings") -> FakeSettings:
        """Build settings from a JSON/TOML object; unknown keys are errors."""
        values = _known_fields(cls, data, where)
        for key in ("api_keys", "forbidden_keys"):
            if key in values:
                values[key] = _str_tuple(values[key], f"{where}.{key}")
        if "durations" in values:
            values["durations"] = parse_durations(values["durations"], f"{where}.durations")
        if "cancel_durations" in values:
            raw = _known_fields(
                CancelDurations, values["cancel_durations"], f"{where}.cancel_durations"
            )
            values["cancel_durations"] = CancelDurations(
                **{k: _range(v, f"{where}.cancel_durations.{k}") for k, v in raw.items()}
            )
        if "faults" in values:
            values["faults"] = parse_fault_rules(values["faults"], f"{where}.faults")
        if "scripts" in values:
            values["scripts"] = tuple(
                ScriptedOutcome.from_mapping(item, f"{where}.scripts[{i}]")
                for i, item in enumerate(_list(values["scripts"], f"{where}.scripts"))
            )
        try:
            return cls(**values)
        except TypeError as exc:  # a wrongly typed value that the dataclass cannot take
            raise SettingsError(f"{where}: {exc}") from exc

    @classmethod
    def from_file(cls, path: str | Path) -> FakeSettings:
        """Load a ``.json`` or ``.toml`` settings file."""
        return cls.from_mapping(load_document(path), str(path))


def parse_fault_rules(data: Any, where: str = "faults") -> tuple[Faults, ...]:
    """One rule (an object) or several (a list of objects)."""
    items = [data] if isinstance(data, Mapping) else _list(data, where)
    return tuple(Faults.from_mapping(item, f"{where}[{i}]") for i, item in enumerate(items))


def parse_durations(data: Any, where: str = "durations") -> Mapping[str, StageDurations]:
    """Per-type stage durations merged over the defaults."""
    if not isinstance(data, Mapping):
        raise SettingsError(f"{where} must be an object keyed by workflow type")
    merged = dict(DEFAULT_DURATIONS)
    for type_name, stages in data.items():
        base = merged.get(type_name, DEFAULT_DURATIONS["USER_DEFINED"])
        raw = _known_fields(StageDurations, stages, f"{where}.{type_name}")
        merged[type_name] = StageDurations(
            **{
                name: _range(raw[name], f"{where}.{type_name}.{name}")
                if name in raw
                else getattr(base, name)
                for name in ("queued", "pending", "running")
            }
        )
    return MappingProxyType(merged)


def load_document(path: str | Path) -> dict[str, Any]:
    """Read a JSON or TOML file into a dictionary."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        data: Any = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{file}: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{file}: the top level must be an object")
    return data


def _known_fields(cls: type, data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise SettingsError(f"{where} must be an object")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise SettingsError(f"{where}: unknown key(s) {', '.join(unknown)}")
    return dict(data)


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise SettingsError(f"{where} must be a list")
    return list(value)


def _str_tuple(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else _list(value, where)
    if not all(isinstance(item, str) for item in items):
        raise SettingsError(f"{where} must hold strings")
    return tuple(items)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{where} must be a number")
    return float(value)


def _range(value: Any, where: str) -> Range:
    items = _list(value, where)
    if len(items) != 2:
        raise SettingsError(f"{where} must be [min, max]")
    low, high = _number(items[0], where), _number(items[1], where)
    if not 0 <= low <= high:
        raise SettingsError(f"{where} must satisfy 0 <= min <= max")
    return (low, high)
