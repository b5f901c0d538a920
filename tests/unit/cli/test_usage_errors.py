"""Bad listing options are usage errors (exit 2, a clear message, nothing sent to the daemon):
the socket given does not exist, so reaching the daemon would exit 3 instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from irpd.cli.irpctl import main
from irpd.cli.main import main as irpd_main

NO_DAEMON = ["--socket", "/nonexistent/irpd.sock"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["batch", "list", "--limit", "0"], "--limit: must be from 1 to 5,000: 0"),
        (["batch", "jobs", "7", "--limit", "-1"], "--limit: must be from 1 to 5,000: -1"),
        (["cycle", "list", "--limit", "5001"], "--limit: must be from 1 to 5,000: 5001"),
        (["config", "list", "--limit", "ten"], "--limit: not an integer: 'ten'"),
        (["report", "batches", "--after", "abc"], "--after: not a cursor: 'abc'"),
        (["job", "tracking", "3", "--after", "-5"], "--after: not a cursor: '-5'"),
        (["notifications", "list", "--limit", "0"], "--limit: must be from 1 to 1,000: 0"),
        (["report", "jobs", "0"], "id: must be a positive integer: 0"),
        (["batch", "cancel", "x", "--reason", "r"], "id: not an integer: 'x'"),
    ],
)
def test_bad_listing_options_exit_2_with_the_reason(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*NO_DAEMON, *argv]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err


def test_a_usage_error_with_json_is_a_json_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*NO_DAEMON, "--json", "batch", "list", "--limit", "0"]) == 2
    error = json.loads(capsys.readouterr().out)["error"]
    assert error["type"] == "UsageError"
    assert "--limit: must be from 1 to 5,000: 0" in error["message"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["cycle", "retire", "--older-than", "-3", "--out", "/x"], "must be 0 or more: -3"),
        (["cycle", "purge", "c", "--without-export", "--chunk", "0"], "must be from 1 to"),
        (["cycle", "purge", "c", "--without-export", "--pause", "nan"], "must be 0 or more"),
    ],
)
def test_irpd_retention_options_are_checked_before_anything_runs(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        irpd_main(argv)
    assert ended.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_daemon_says_where_the_socket_path_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a new shell without `irpd demo --keep`'s export line met an unexplained default path
    config = tmp_path / "irpd.toml"
    config.write_text(f'[control]\nsocket = "{tmp_path / "none.sock"}"\n', encoding="utf-8")
    monkeypatch.delenv("IRPD_CONTROL_SOCKET", raising=False)
    monkeypatch.setenv("IRPD_CONFIG", str(config))
    assert main(["status"]) == 3
    assert capsys.readouterr().err.endswith(
        f"(neither --socket nor $IRPD_CONTROL_SOCKET was given: control.socket of {config})\n"
    )
    assert main([*NO_DAEMON, "status"]) == 3
    assert "was given" not in capsys.readouterr().err
