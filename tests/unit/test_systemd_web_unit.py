"""systemd/irpd-web.service: hardened like irpd.service (the same directive checks), started
with ``irpd web``, and — where systemd-analyze exists — verified and scored."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from irpd.cli.main import build_parser

from .test_systemd_unit import HARDENING, MAX_EXPOSURE, assert_exposure_at_most, one, parse_unit

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "irpd-web.service"
ANALYZE = shutil.which("systemd-analyze")


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]


@pytest.mark.parametrize(("key", "value"), sorted(HARDENING.items()))
def test_hardened_like_the_daemon(service: dict[str, list[str]], key: str, value: str) -> None:
    assert one(service, key) == value


def test_system_calls_are_filtered(service: dict[str, list[str]]) -> None:
    filters = service["SystemCallFilter"]
    assert "@system-service" in filters
    assert any(f.startswith("~") and "@privileged" in f for f in filters)


def test_starts_the_console_and_does_not_restart_on_config_errors(
    service: dict[str, list[str]],
) -> None:
    command = one(service, "ExecStart").split()
    assert command[1:3] == ["web", "--config"]
    args = build_parser().parse_args(command[1:])
    assert args.command == "web"
    assert args.action == "serve"
    assert one(service, "Type") == "notify"
    assert "2" in one(service, "RestartPreventExitStatus").split()
    assert one(service, "User") == "irpd"


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_security_exposure() -> None:
    assert_exposure_at_most(UNIT, MAX_EXPOSURE)
