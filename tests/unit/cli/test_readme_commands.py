"""Every irpctl and irpd command line in the README's and docs/*.md's shell examples parses with
today's parsers (options cannot drift); the README's rehearsal block is also run against a live
daemon by tests/demo/test_demo.py."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from irpd.cli import irpctl, main
from irpd.moodys.fake import cli as fake_cli

ROOT = Path(__file__).resolve().parents[3]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
#: a command in command position: at the start of a line or after ``$ ``, ``$(``, ``&&``, ``;``,
#: perhaps by a path (``.venv/bin/irpctl``), followed by its first word
COMMAND = re.compile(r"(?:^|\$ |\$\(|&& |; )(?:[\w./-]*/)?(irpctl|irpd) (?=[a-z-])(.*)$")


def shell_blocks(text: str) -> list[str]:
    """The ```sh (and ```console) blocks of a Markdown text, continuation lines joined."""
    blocks = re.findall(r"```(?:sh|console)\n(.*?)```", text, flags=re.DOTALL)
    return [block.replace("\\\n", " ") for block in blocks]


def command_lines(text: str) -> list[tuple[str, list[str]]]:
    """(program, arguments) of every irpctl and irpd command in the shell blocks (variables
    as ``1``; comments, pipes and input redirections cut off)."""
    found = []
    for block in shell_blocks(text):
        for line in block.splitlines():
            match = COMMAND.search(line.strip())
            if match is None:
                continue
            command = re.sub(r"\s+#.*$", "", match.group(2))  # a trailing comment
            command = re.split(r" \| | < ", command, maxsplit=1)[0].rstrip().removesuffix(")")
            command = re.sub(r'"?\$\(\(.*?\)\)"?|"?\$[A-Z_]+"?', "1", command)
            found.append((match.group(1), shlex.split(command)))
    return found


def parser_of(program: str, args: list[str]) -> tuple[argparse.ArgumentParser, list[str]]:
    """The parser that reads ``args`` (``irpd fake-moodys`` hands its own to the fake server)."""
    if program == "irpctl":
        return irpctl.build_parser(), args
    if args[:1] == ["fake-moodys"]:
        return fake_cli.build_parser(), args[1:]
    return main.build_parser(), args


EXAMPLES = [(page, *line) for page in PAGES for line in command_lines(page.read_text("utf-8"))]


def test_the_pages_have_irpctl_and_irpd_examples() -> None:
    readme = [args for page, program, args in EXAMPLES if page == README and program == "irpctl"]
    assert len(readme) >= 20
    assert {page.name for page, _, _ in EXAMPLES} >= {"cycles.md", "retention.md", "web.md"}


@pytest.mark.parametrize(
    ("page", "program", "args"),
    EXAMPLES,
    ids=[f"{page.name}: {program} {' '.join(args)}"[:70] for page, program, args in EXAMPLES],
)
def test_every_shown_command_parses(page: Path, program: str, args: list[str]) -> None:
    parser, rest = parser_of(program, args)
    parsed = parser.parse_args(rest)
    assert parsed is not None
