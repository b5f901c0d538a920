"""docs/control.md lists every command of protocol v1 with its arguments and their types."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from irpd.control.protocol import COMMANDS, VERSION

DOC = Path(__file__).resolve().parents[3] / "docs" / "control.md"
ROWS = {
    match.group(1): line
    for line in DOC.read_text(encoding="utf-8").splitlines()
    if (match := re.match(r"^\| `([a-z_.]+)` \|", line))
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_is_documented_with_its_arguments(name: str) -> None:
    assert name in ROWS, f"{name} is missing from docs/control.md"
    arguments_cell = ROWS[name].split("|")[2]
    for arg in COMMANDS[name].args:
        optional = "" if arg.required else "?"
        expected = f"`{arg.name}`{optional} {arg.type}"
        assert expected in arguments_cell, f"{name}: expected {expected!r} in {arguments_cell!r}"


def test_no_documented_command_is_unknown() -> None:
    commands = {
        name
        for name, line in ROWS.items()
        if "." in name or name in ("ping", "status", "types")
        if line.count("|") >= 5
    }
    assert commands <= set(COMMANDS)


def test_the_version_and_the_server_errors_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert f'"v": {VERSION}' in text
    for kind in ("ProtocolError", "PermissionDenied", "Busy", "InternalError"):
        assert f"`{kind}`" in text
