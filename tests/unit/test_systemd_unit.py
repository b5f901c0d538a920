"""systemd/irpd.service: the directives irpd relies on, `systemd-analyze verify`, and the
`systemd-analyze security` exposure score (≤ 1.2). The systemd-analyze checks skip cleanly
where the binary is absent; the directive checks always run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from irpd.cli.main import main as irpd_main
from irpd.config import Config, load_config
from irpd.wiring import CREDENTIAL_NAME

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "irpd.service"
ENV_EXAMPLE = ROOT / "systemd" / "irpd.env.example"
SYSUSERS = ROOT / "systemd" / "irpd.sysusers"
#: the unit's score (UMask=0077 took the last 0.1 that a directive can): never worse
MAX_EXPOSURE = 1.2

Directives = dict[str, dict[str, list[str]]]


def parse_unit(text: str) -> Directives:
    """``{section: {key: [values in order]}}`` (repeated keys accumulate, as systemd does)."""
    sections: Directives = defaultdict(lambda: defaultdict(list))
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not a directive: {raw!r}"
        sections[section][key.strip()].append(value.strip())
    return sections


@pytest.fixture(scope="module")
def service() -> dict[str, list[str]]:
    return parse_unit(UNIT.read_text(encoding="utf-8"))["Service"]


def one(service: dict[str, list[str]], key: str) -> str:
    values = service.get(key)
    assert values, f"{key}= is missing"
    return values[-1]


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m)?", value)
    assert match, f"unsupported time span {value!r}"
    number, unit = float(match.group(1)), match.group(2)
    return number * 60 if unit in ("min", "m") else number


# --- directives ------------------------------------------------------------------------------


def test_lifecycle_directives(service: dict[str, list[str]]) -> None:
    assert one(service, "Type") == "notify"
    assert one(service, "NotifyAccess") == "main"
    assert one(service, "Restart") == "on-failure"
    assert one(service, "KillMode") == "mixed"
    assert seconds(one(service, "RestartSec")) > 0
    assert one(service, "ExecStart").endswith("irpd run --config /etc/irpd/irpd.toml")
    assert seconds(one(service, "WatchdogSec")) >= 10


def test_stop_timeout_covers_the_drain(service: dict[str, list[str]]) -> None:
    drain = Config().engine.drain_timeout
    # drain, then supervisor cancel (5 s), lease release (5 s), closing: see irpd.app._shutdown
    assert seconds(one(service, "TimeoutStopSec")) >= drain + 25


def test_directories_credentials_and_environment(service: dict[str, list[str]]) -> None:
    assert one(service, "RuntimeDirectory") == "irpd"
    assert one(service, "StateDirectory") == "irpd"
    assert one(service, "User") == "irpd"
    assert one(service, "Group") == "irpd"
    assert one(service, "UMask") == "0077"
    assert one(service, "LoadCredential") == f"{CREDENTIAL_NAME}:/etc/irpd/moodys-api-key"
    assert one(service, "EnvironmentFile") == "-/etc/irpd/irpd.env"


HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "DevicePolicy": "closed",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "ProtectProc": "invisible",
    "ProcSubset": "pid",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallArchitectures": "native",
    "CapabilityBoundingSet": "",
    "AmbientCapabilities": "",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
}


@pytest.mark.parametrize(("key", "value"), sorted(HARDENING.items()))
def test_hardening(service: dict[str, list[str]], key: str, value: str) -> None:
    assert one(service, key) == value


def test_system_calls_are_filtered(service: dict[str, list[str]]) -> None:
    filters = service["SystemCallFilter"]
    assert "@system-service" in filters
    assert any(f.startswith("~") and "@privileged" in f for f in filters)


def test_private_users_is_off_so_peer_credentials_stay_real(
    service: dict[str, list[str]],
) -> None:
    # PrivateUsers= would show every operator as `nobody` through SO_PEERCRED, and the
    # control socket's group allow-list would refuse them all.
    assert service.get("PrivateUsers", ["no"])[-1] in ("no", "false")


def test_config_errors_do_not_restart_the_unit(
    service: dict[str, list[str]], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[engine]\nno_such_key = 1\n", encoding="utf-8")
    code = irpd_main(["config", "--config", str(bad)])
    assert code != 0
    assert str(code) in one(service, "RestartPreventExitStatus").split()


def test_env_example_sets_only_real_keys() -> None:
    assignments = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?(IRPD_[A-Z_]+)=(.*)", line.strip())
        if match:
            assignments[match.group(1)] = match.group(2)
    assert {
        "IRPD_DATABASE_DSN",
        "IRPD_MOODYS_BASE_URL",
        "IRPD_MOODYS_API_KEY",
        "IRPD_CONTROL_SOCKET",
        "IRPD_STATE_DIR",
    } <= set(assignments)
    config = load_config(ROOT / "irpd.toml", env=assignments)
    assert config.control.allowed_groups == ("irpd",)


def test_sysusers_declares_the_service_user() -> None:
    lines = [
        line.split()
        for line in SYSUSERS.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ["u", "irpd"] in [fields[:2] for fields in lines]


# --- systemd-analyze ---------------------------------------------------------------------------

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")


def _installed_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart= pointing at this checkout's irpd (verify checks it exists)."""
    executable = shutil.which("irpd") or str(Path(sys.executable).parent / "irpd")
    if not Path(executable).is_file():
        pytest.skip("the irpd console script is not installed")
    text = UNIT.read_text(encoding="utf-8").replace("/usr/local/bin/irpd", executable)
    copy = tmp_path / "irpd.service"
    copy.write_text(text, encoding="utf-8")
    return copy


@needs_analyze
def test_systemd_analyze_verify(tmp_path: Path) -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "verify", str(_installed_copy(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "irpd.service" not in result.stderr, result.stderr


@needs_analyze
def test_systemd_analyze_security_exposure() -> None:
    assert_exposure_at_most(UNIT, MAX_EXPOSURE)


def assert_exposure_at_most(unit: Path, limit: float) -> None:
    """``systemd-analyze security --offline`` scores ``unit`` at most ``limit``."""
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "offline" in result.stderr and (
        "unrecognized" in result.stderr or "unknown" in result.stderr
    ):
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= limit, result.stdout
