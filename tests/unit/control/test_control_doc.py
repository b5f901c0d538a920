"""docs/control.md lists every command of protocol v1 with its arguments and their types, and
the keys of the rows its results are made of."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_type_hints

import pytest

import sql
from irpd.control.protocol import COMMANDS, VERSION
from irpd.ops import results

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


#: docs/control.md's "Rows" → the result type whose keys each row lists (extras named there)
DOCUMENTED_ROWS = {
    "cycle": (results.Cycle, set()),
    "configuration": (results.ConfigurationRow, {"batches"}),  # "configuration row + batches"
    "batch": (results.BatchRow, set()),
    "job": (results.BatchJob, set()),
    "job configuration": (results.JobConfiguration, set()),
}


def test_the_rows_list_the_keys_of_their_result_types() -> None:
    text = DOC.read_text(encoding="utf-8").split("### Rows", 1)[1].split("\n## ", 1)[0]
    shown = {
        name: set(re.findall(r"[a-z_0-9]+", keys))
        for name, keys in re.findall(r"- \*\*([a-z ]+)\*\*: `\{([^}]*)\}`", text)
    }
    assert set(shown) == {*DOCUMENTED_ROWS, "tracking"}
    for name, (row_type, extra) in DOCUMENTED_ROWS.items():
        assert shown[name] == set(get_type_hints(row_type)) - extra, name
    query = sql.load_queries()["page_job_tracking"]
    selected = query.split("SELECT", 1)[1].split("FROM", 1)[0]
    assert shown["tracking"] == set(re.findall(r"[a-z_]+", selected))
