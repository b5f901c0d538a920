"""Every irpctl command line in the README parses with today's irpctl (options cannot drift);
the rehearsal block is also run against a live daemon by tests/demo/test_demo.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from irpd.cli.irpctl import build_parser

README = Path(__file__).resolve().parents[3] / "README.md"


def shell_blocks(text: str) -> list[str]:
    """The ```sh blocks of a Markdown text, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    return [block.replace("\\\n", " ") for block in blocks]


def irpctl_lines(text: str) -> list[list[str]]:
    """The arguments of every irpctl command in the shell blocks (variables as ``1``)."""
    found = []
    for block in shell_blocks(text):
        for line in block.splitlines():
            if "irpctl " not in line:
                continue
            command = line.split("irpctl ", 1)[1]
            command = re.sub(r"\s+#.*$", "", command)  # a trailing comment
            command = command.split(" | ", 1)[0].rstrip().removesuffix(")")
            command = re.sub(r'"?\$\(\(.*?\)\)"?|"?\$[A-Z_]+"?', "1", command)
            found.append(shlex.split(command))
    return found


COMMANDS = irpctl_lines(README.read_text(encoding="utf-8"))


def test_the_readme_has_irpctl_examples() -> None:
    assert len(COMMANDS) >= 20


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a)[:60] for a in COMMANDS])
def test_every_readme_irpctl_command_parses(args: list[str]) -> None:
    parsed = build_parser().parse_args(args)
    assert parsed.group
