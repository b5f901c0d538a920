"""Cycle plans: the default plan file and the daemon's plan runner."""

from __future__ import annotations

from importlib import resources

DEFAULT_PLAN_FILE = "default_plan.toml"


def default_plan_text() -> str:
    """The shipped default plan (a readable TOML file a team can copy and change)."""
    return resources.files(__name__).joinpath(DEFAULT_PLAN_FILE).read_text(encoding="utf-8")
