"""What a SIGHUP can change: a pure comparison of the running and the re-read configuration.

The log level and interval, every ``[engine]`` key but ``worker_id`` and ``lease_ttl``, and
Moody's circuit breaker (``moodys.circuit_*``) apply at once: :func:`reloaded` is the
configuration the daemon then runs with, and the engine and the breaker map it to their
running settings by the same functions as at start (:mod:`irpd.engine.settings`,
:func:`irpd.wiring.circuit_settings`), so a key reported as applied is one that changed the
running objects. Everything else (database, Moody's connection and limits, control socket,
state directory, log format) needs a restart, and the daemon says so in its log instead of
silently ignoring the change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import Any

from irpd.config import Config

#: engine keys that are fixed at start (identity and leases)
ENGINE_FIXED = ("worker_id", "lease_ttl")
#: logging keys a SIGHUP applies (the format is chosen when logging is set up)
LOGGING_LIVE = ("level", "aggregate_interval")
#: moodys keys a SIGHUP applies (the circuit breaker's; the connection and limits are fixed)
MOODYS_LIVE = ("circuit_open_after", "circuit_max_probe_interval")
#: keys whose values are never logged
SECRETS = ("moodys.api_key", "moodys.bearer_token", "database.dsn")


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    """Changed keys that apply now, and changed keys that need a restart."""

    apply: dict[str, Any]
    restart_needed: list[str]


def reloaded(current: Config, fresh: Config) -> Config:
    """The configuration to run with after a SIGHUP: ``fresh``'s live keys, ``current``'s
    values for everything else."""
    engine = replace(fresh.engine, **{key: getattr(current.engine, key) for key in ENGINE_FIXED})
    logging = replace(current.logging, **{key: getattr(fresh.logging, key) for key in LOGGING_LIVE})
    moodys = replace(current.moodys, **{key: getattr(fresh.moodys, key) for key in MOODYS_LIVE})
    return replace(current, engine=engine, logging=logging, moodys=moodys)


def _differences(before: Config, after: Config) -> dict[str, Any]:
    return {
        f"{section.name}.{key.name}": getattr(getattr(after, section.name), key.name)
        for section in dataclasses.fields(before)
        for key in dataclasses.fields(getattr(before, section.name))
        if getattr(getattr(before, section.name), key.name)
        != getattr(getattr(after, section.name), key.name)
    }


def plan_reload(current: Config, fresh: Config) -> ReloadPlan:
    """Compare two configurations key by key."""
    running = reloaded(current, fresh)
    apply = _differences(current, running)
    for secret in SECRETS:
        if secret in apply:
            apply[secret] = "***"
    return ReloadPlan(apply, sorted(_differences(running, fresh)))
