"""``[notifications]``: channels and routes as lists of tables, refused clearly when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from irpd.config import describe, load_config
from irpd.errors import ConfigError

GOOD = """
[notifications]
gather = 0.5

[[notifications.channels]]
name = "teams"
type = "teams"
url = "https://example.invalid/webhook/secret-token"

[[notifications.channels]]
name = "mail"
type = "email"
smtp_host = "smtp.example.invalid"
sender = "irpd@example.invalid"
recipients = ["ops@example.invalid"]

[[notifications.routes]]
channels = ["teams", "mail"]
kinds = ["batch_failed"]
cycles = ["2026Q4"]
"""



def test_channels_and_routes_load_as_tables(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD), env={})
    channels = config.notifications.channels
    assert [c.name for c in channels] == ["teams", "mail"]
    assert channels[1].recipients == ("ops@example.invalid",)
    assert config.notifications.routes[0].cycles == ("2026Q4",)
    shown = describe(config)["notifications"]
    assert shown["channels"][0]["url"] == "***"
    assert "secret-token" not in repr(config)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "irpd.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (GOOD.replace('type = "teams"', 'type = "pager"'), "notifications.channels[0].type"),
        (GOOD.replace('channels = ["teams", "mail"]', 'channels = ["nope"]'), "no channel named"),
        (GOOD.replace('kinds = ["batch_failed"]', 'kinds = ["x"]'), "unknown kind 'x'"),
        (GOOD.replace('smtp_host = "smtp.example.invalid"\n', ""), "smtp_host"),
        (GOOD.replace('name = "mail"', 'name = "teams"'), "used twice"),
        (GOOD.replace('name = "mail"', 'nmae = "mail"'), "unknown key"),
        ("[notifications]\nchannels = 3\n", "expected a list of tables"),
        (GOOD.replace("gather = 0.5", "gather = -1.0"), "notifications.gather"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        load_config(_write(tmp_path, text), env={})


def test_a_variable_cannot_replace_the_tables() -> None:
    with pytest.raises(ConfigError, match="list of tables"):
        load_config(None, env={"IRPD_NOTIFICATIONS_CHANNELS": "teams"})
