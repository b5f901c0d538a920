"""What a SIGHUP can change: a pure comparison of the running and the re-read configuration.

Log level, poll intervals and the engine's batch sizes apply at once; everything else
(database, Moody's connection and limits, control socket, state directory) needs a restart,
and the daemon says so in its log instead of silently ignoring the change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from irpd.config import Config

#: sections whose keys take effect on reload
LIVE_SECTIONS = ("logging", "engine")
#: engine keys that are fixed at start (identity and leases)
ENGINE_FIXED = ("worker_id", "lease_ttl")


@dataclass(frozen=True, slots=True)
class ReloadPlan:
    """Changed keys that apply now, and changed keys that need a restart."""

    apply: dict[str, Any]
    restart_needed: list[str]


def _changed(current: Any, fresh: Any, section: str) -> dict[str, Any]:
    return {
        f"{section}.{f.name}": getattr(fresh, f.name)
        for f in dataclasses.fields(current)
        if getattr(current, f.name) != getattr(fresh, f.name)
    }


def plan_reload(current: Config, fresh: Config) -> ReloadPlan:
    """Compare two configurations key by key."""
    apply: dict[str, Any] = {}
    restart: list[str] = []
    for field in dataclasses.fields(current):
        changed = _changed(getattr(current, field.name), getattr(fresh, field.name), field.name)
        for key, value in changed.items():
            fixed = key.removeprefix("engine.") in ENGINE_FIXED and key.startswith("engine.")
            if field.name in LIVE_SECTIONS and not fixed:
                apply[key] = value
            else:
                restart.append(key)
    for secret in ("moodys.api_key", "moodys.bearer_token", "database.dsn"):
        if secret in apply:
            apply[secret] = "***"
    return ReloadPlan(apply, sorted(restart))
