"""Every command, option and argument of ``irpctl`` and ``irpd`` says what it is in ``--help``
(a new user reads nothing else), and options with a default show it."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator

import pytest

from irpd.cli.irpctl import build_parser as irpctl_parser
from irpd.cli.main import build_parser as irpd_parser
from irpd.moodys.fake.cli import build_parser as fake_moodys_parser


def _walk(
    parser: argparse.ArgumentParser, path: str
) -> Iterator[tuple[str, argparse.ArgumentParser, argparse.Action]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                assert helps.get(name), f"{path} {name}: the subcommand has no help"
                yield from _walk(child, f"{path} {name}")
        else:
            yield path, parser, action


def _options() -> Iterator[tuple[str, argparse.ArgumentParser, argparse.Action]]:
    yield from _walk(irpctl_parser(), "irpctl")
    yield from _walk(irpd_parser(), "irpd")
    yield from _walk(fake_moodys_parser(), "irpd fake-moodys")


def _name(path: str, action: argparse.Action) -> str:
    return f"{path} {'/'.join(action.option_strings) or action.dest}"


def test_every_option_and_argument_has_a_one_line_help() -> None:
    missing = [
        _name(path, action)
        for path, _, action in _options()
        if action.help is not argparse.SUPPRESS and not (action.help or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("prog", "make"), [("irpctl", irpctl_parser), ("irpd", irpd_parser)], ids=["irpctl", "irpd"]
)
def test_defaults_are_shown(prog: str, make: Callable[[], argparse.ArgumentParser]) -> None:
    for path, parser, action in _walk(make(), prog):
        shown = action.default not in (None, False, argparse.SUPPRESS) and action.option_strings
        if shown and action.help is not argparse.SUPPRESS:
            text = parser.format_help()
            assert f"(default: {action.default})" in text, _name(path, action)
