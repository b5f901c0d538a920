"""``irpd demo --web`` gives a way in: a demo operator account whose password is printed once
(the console reads it like any accounts file); anonymous viewing only on loopback."""

from __future__ import annotations

import stat
from pathlib import Path

from irpd.demo import DEMO_USER, demo_accounts, is_loopback, web_banner
from irpd.web.auth import Accounts


def test_the_demo_account_logs_in_as_an_operator(tmp_path: Path) -> None:
    path, password = demo_accounts(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    accounts = Accounts.load(str(path))
    who = accounts.login(DEMO_USER, password)
    assert who is not None
    assert (who.user, who.role) == ("demo", "operator")
    assert accounts.login(DEMO_USER, password + "x") is None
    assert demo_accounts(tmp_path)[1] != password  # a new password each run


def test_the_banner_gives_the_url_and_the_login() -> None:
    text = web_banner("127.0.0.1:8457", "s3cret")
    assert "http://127.0.0.1:8457/" in text
    assert "log in as demo / s3cret" in text
    assert "watch it without logging in" in text
    assert "watch it without logging in" not in web_banner("0.0.0.0:8457", "s3cret")


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1:8457")
    assert is_loopback("localhost:1")
    assert is_loopback("[::1]:2")
    assert not is_loopback("0.0.0.0:8457")
    assert not is_loopback("192.168.1.5:8457")
