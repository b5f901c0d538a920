"""Shared CLI helpers: finding the configuration file and the control socket."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Epilogs kept as written; every option's default shown (flags and options without a
    default say nothing)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


class DefaultsParser(argparse.ArgumentParser):
    """An argument parser (and its subcommands') whose ``--help`` shows the defaults."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer within ``low..high`` (else a usage error, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high:,}: {value}")
        return value

    return parse


def non_negative_of(unit: str = "") -> Callable[[str], float]:
    """An argparse ``type``: a finite number of ``unit``, 0 or more (else a usage error, exit 2)."""
    number, more = (f"number of {unit}", f"0 or more {unit}") if unit else ("number", "0 or more")

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a {number}: {text!r}") from None
        if not 0 <= value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be {more}: {text}")
        return value

    return parse


non_negative = non_negative_of()


#: the largest id PostgreSQL's BIGINT holds
MAX_ID = 2**63 - 1


def positive_id(text: str) -> int:
    """An argparse ``type``: an id (a positive integer; else a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value > MAX_ID:
        raise argparse.ArgumentTypeError(f"must be a positive integer up to {MAX_ID}: {value}")
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer: {value}")
    return value
