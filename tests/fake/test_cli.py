"""``irpd fake-moodys`` as a real process, its parser and settings files."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import aiohttp
import pytest

from irpd.moodys.fake.cli import build_parser, main, settings_from_args
from irpd.moodys.fake.settings import SettingsError


async def test_cli_serves_on_a_free_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    settings = tmp_path / "fake.toml"
    settings.write_text('seed = 3\ntime_scale = 0\napi_keys = ["cli-key"]\n')
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "irpd.moodys.fake.cli",
        "--port",
        "0",
        "--settings",
        str(settings),
        "--quota",
        "5",
        "--error-rate",
        "0",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode().strip()
        assert line.startswith("fake-moodys listening on http://127.0.0.1:")
        base_url = line.rsplit(" ", 1)[1]
        async with aiohttp.ClientSession(base_url, headers={"Authorization": "cli-key"}) as s:
            async with s.get("/riskmodeler/v1/workflows") as resp:
                assert resp.status == 200
                assert (await resp.json())["totalMatchCount"] == 0
            async with s.get("/__fake__/state") as resp:
                assert (await resp.json())["queue"]["quota"] == 5
    finally:
        process.terminate()
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0


def test_help_documents_every_knob(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in (
        "--seed",
        "--time-scale",
        "--quota",
        "--duration",
        "--failure-rate",
        "--not-ready-rate",
        "--error-rate",
        "--rate-limit-rate",
        "--retry-after",
        "--rate-limit-bare-rate",
        "--latency",
        "--hang-rate",
        "--drop-after-record-rate",
        "--malformed-json-rate",
        "--truncated-json-rate",
        "--html-error-rate",
        "--api-key",
        "--forbidden-key",
        "--strict-references",
        "--catalogue",
        "--script",
        "--script-file",
        "--max-limit",
        "--settings",
        "--faults-file",
        "--fault-methods",
        "--fault-path-prefix",
        "--fault-seed",
    ):
        assert flag in text, flag


def test_flags_override_the_settings_file(tmp_path: Path) -> None:
    file = tmp_path / "fake.json"
    file.write_text(
        json.dumps(
            {
                "seed": 1,
                "quota": 3,
                "faults": [{"error_rate": 0.1}],
                "scripts": [{"name": "A", "message": "m"}],
            }
        )
    )
    faults_file = tmp_path / "faults.json"
    faults_file.write_text(json.dumps({"rules": [{"hang_rate": 0.2}]}))
    args = build_parser().parse_args(
        [
            "--settings",
            str(file),
            "--seed",
            "9",
            "--quota",
            "none",
            "--time-scale",
            "3600",
            "--duration",
            "ANALYTICS_JOB=5-10",
            "--duration",
            "GEOHAZ.queued=1-2",
            "--cancel-duration",
            "requested=1-1",
            "--not-ready-rate",
            "0.5",
            "--fault-methods",
            "GET",
            "--faults-file",
            str(faults_file),
            "--script",
            "B=FAILED:bad treaty",
            "--strict-references",
        ]
    )
    settings = settings_from_args(args)
    assert settings.seed == 9
    assert settings.quota is None
    assert settings.time_scale == 3600
    assert settings.durations["ANALYTICS_JOB"].running == (5.0, 10.0)
    assert settings.durations["GEOHAZ"].queued == (1.0, 2.0)
    assert settings.cancel_durations.requested == (1.0, 1.0)
    assert [f.error_rate for f in settings.faults] == [0.1, 0, 0]
    assert settings.faults[1].hang_rate == 0.2
    assert settings.faults[2].not_ready_rate == 0.5
    assert settings.faults[2].methods == ("GET",)
    assert [s.name for s in settings.scripts] == ["A", "B"]
    assert settings.scripts[1].message == "bad treaty"
    assert settings.strict_references


def test_bad_settings_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "bad.json"
    file.write_text(json.dumps({"seed": 1, "colour": "red"}))
    assert main(["--settings", str(file)]) == 2
    assert "colour" in capsys.readouterr().err
    with pytest.raises(SettingsError):
        settings_from_args(build_parser().parse_args(["--error-rate", "0.9", "--hang-rate", "0.9"]))
