"""``irpctl notifications``: the outbox (pending, failed with the reason, delivered) and resend."""

from __future__ import annotations

import argparse
from typing import Any

from irpd.cli.commands import Outcome, Session
from irpd.cli.common import bounded_int
from irpd.cli.render import block, table

COLUMNS = (
    "id",
    "status",
    "channel",
    "attempts",
    "title",
    "last_error",
    "created_ts",
    "delivered_ts",
)


def add_parser(sub: Any, positive_id: Any) -> None:
    """``notifications list`` and ``notifications resend``."""
    group = sub.add_parser(
        "notifications",
        help="the notification outbox: list, resend",
        description="Messages irpd sends to Teams, Slack, webhooks and e-mail "
        "(docs/monitoring.md).",
    ).add_subparsers(dest="action", required=True)
    listing = group.add_parser(
        "list", help="counts, then the newest messages (FAILED ones with their reason)"
    )
    listing.add_argument(
        "--status", choices=("PENDING", "FAILED", "DELIVERED"), help="only messages in this state"
    )
    listing.add_argument(
        "--limit",
        type=bounded_int(1, 1000),
        default=50,
        metavar="N",
        help="messages shown, 1 to 1,000",
    )
    resend = group.add_parser("resend", help="send a message again (same idempotency key)")
    resend.add_argument("id", type=positive_id, help="message id (see 'notifications list')")


def notifications(s: Session, a: argparse.Namespace, _f: dict[str, Any]) -> Outcome:
    """List the outbox or resend one message."""
    if a.action == "resend":
        s.emit(s.call("notifications.resend", message_id=a.id), block)
        return Outcome()

    s.emit(s.call("notifications.list", status=a.status, limit=a.limit), outbox_text)
    return Outcome()


def outbox_text(result: dict[str, Any]) -> str:
    """The counts, a line explaining each count that needs one, then the messages."""
    summary = result.get("summary", {})
    head = "  ".join(f"{k}={v}" for k, v in summary.items())
    notes = [
        text.format(n=summary[key])
        for key, text in SUMMARY_NOTES
        if isinstance(summary.get(key), int) and summary[key] > 0
    ]
    return "\n".join([head, *notes, table(result.get("messages", []), COLUMNS)])


#: what a non-zero count means and what to do about it (docs/monitoring.md)
SUMMARY_NOTES = (
    (
        "no_channel",
        "  no_channel: {n} notifications had no route to any channel and were sent nowhere "
        "(configure [[notifications.routes]] in irpd.toml; docs/monitoring.md)",
    ),
    (
        "unrouted",
        "  unrouted: {n} notifications wait to be gathered into messages (notifications.gather "
        "s after the last one)",
    ),
    (
        "failed",
        "  failed: {n} messages were given up (reason in LAST_ERROR); "
        "'irpctl notifications resend ID' sends one again",
    ),
)
