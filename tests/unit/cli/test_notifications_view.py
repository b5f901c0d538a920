"""``irpctl notifications list`` explains the counts a new user cannot read on their own."""

from __future__ import annotations

from irpd.cli.notifications import outbox_text


def test_no_channel_is_explained_with_where_to_configure_routes() -> None:
    summary = {"unrouted": 0, "no_channel": 83, "pending": 0, "failed": 0, "delivered": 5}
    lines = outbox_text({"summary": summary, "messages": []}).splitlines()
    assert lines[0] == "unrouted=0  no_channel=83  pending=0  failed=0  delivered=5"
    assert "83 notifications had no route to any channel" in lines[1]
    assert "[[notifications.routes]]" in lines[1]
    assert "docs/monitoring.md" in lines[1]
    assert len([line for line in lines if line.startswith("  ")]) == 1  # zero counts: no note


def test_failed_messages_say_how_to_resend() -> None:
    text = outbox_text({"summary": {"failed": 2}, "messages": []})
    assert "'irpctl notifications resend ID'" in text
