"""irpctl's human output: escaped, wrapped at words (never cut), coloured only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from irpd.cli.edits import UsageError, override_of, parse_set, read_json_object
from irpd.cli.render import block, cell, colour_enabled, escape, table


def test_control_characters_are_shown_as_escapes() -> None:
    assert escape("a\nb\tc\x1b[2J\u202ed\x85") == "a\\nb\\tc\\x1b[2J\\u202ed\\x85"
    assert escape("Zürich 東京") == "Zürich 東京"
    assert cell({"k": "x\ny"}) == '{"k": "x\\ny"}'
    assert block({"name\u202e": "v\u2066"}) == "name\\u202e  v\\u2066"


def test_a_table_wider_than_the_screen_wraps_whole_words() -> None:
    message = "the portfolio 'USFL_Base' is not listed in Portfolios (did you mean 'usfl_base'?)"
    rows = [{"sheet": "Analysis Table", "row": 7, "message": message}]
    text = table(rows, ("sheet", "row", "message"), width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert len(lines) > 2
    shown_words = " ".join(line[len("Analysis Table  7    "):] for line in lines[1:]).split()
    assert shown_words == message.split()  # every word whole, none cut


def test_piped_tables_are_never_wrapped_or_cut() -> None:
    rows = [{"description": "x" * 300}]
    assert table(rows, ("description",), width=None).splitlines()[1] == "x" * 300


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with (tmp_path / "out").open("w") as file:
        assert colour_enabled(file) is False
    rows = [{"status": "FAILED"}]
    assert "\x1b[" in table(rows, ("status",), width=None, colour=True)
    assert "\x1b[" not in table(rows, ("status",), width=None, colour=False)
    monkeypatch.setenv("NO_COLOR", "1")

    class Terminal:
        def isatty(self) -> bool:
            return True

    assert colour_enabled(Terminal()) is False  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "")
    monkeypatch.setenv("TERM", "xterm")
    assert colour_enabled(Terminal()) is True  # type: ignore[arg-type]
    monkeypatch.setenv("TERM", "dumb")
    assert colour_enabled(Terminal()) is False  # type: ignore[arg-type]


def test_set_values_are_json_when_they_parse_else_text() -> None:
    assert parse_set(["a=0.9", "b=true", "c=null", 'd="9"', "e=RMS 2023 Rates", "f=[1,2]"]) == {
        "a": 0.9,
        "b": True,
        "c": None,
        "d": "9",
        "e": "RMS 2023 Rates",
        "f": [1, 2],
    }
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        parse_set(["novalue"])


def test_override_files_are_named_in_every_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(UsageError, match=f"{missing}: no such file"):
        read_json_object(missing, "--override")
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": 1,}', encoding="utf-8")
    with pytest.raises(UsageError, match=f"{bad}: invalid JSON at line 1 column 9"):
        read_json_object(bad, "--override")
    listed = tmp_path / "list.json"
    listed.write_text("[1]", encoding="utf-8")
    with pytest.raises(UsageError, match=f"{listed}: the override must be a JSON object"):
        read_json_object(listed, "--override")
    good = tmp_path / "good.json"
    good.write_text('{"a": 1, "b": 2}', encoding="utf-8")
    assert override_of(good, ["b=3"], False) == {"a": 1, "b": 3}
    assert override_of(None, None, False) is None
    with pytest.raises(UsageError, match="--replace needs --override FILE"):
        override_of(None, ["a=1"], True)
