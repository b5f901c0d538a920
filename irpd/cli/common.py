"""Shared CLI helpers: finding the configuration file and the control socket."""

from __future__ import annotations

import os
from pathlib import Path

from irpd.config import Config, load_config

SYSTEM_CONFIG = Path("/etc/irpd/irpd.toml")


def config_path(explicit: str | None) -> Path | None:
    """``--config``, else ``$IRPD_CONFIG``, else /etc/irpd/irpd.toml when it exists, else none."""
    if explicit:
        return Path(explicit)
    if os.environ.get("IRPD_CONFIG"):
        return Path(os.environ["IRPD_CONFIG"])
    return SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None


def load(explicit: str | None) -> tuple[Config, Path | None]:
    """The configuration the daemon (or a tool) runs with."""
    path = config_path(explicit)
    return load_config(path), path
