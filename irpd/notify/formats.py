"""A message's content rendered for each channel type (pure).

- Microsoft Teams incoming webhook: a legacy *MessageCard* (title, facts, actions);
- Slack incoming webhook: Block Kit blocks with a plain-text fallback;
- generic webhook: the content itself as JSON (signed by the sender);
- e-mail: a plain-text ``EmailMessage``.
"""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any, Final

_TEAMS_COLOURS: Final = {"critical": "D70000", "warning": "F2A900", "info": "2E8B57"}
_SLACK_EMOJI: Final = {
    "critical": ":red_circle:",
    "warning": ":warning:",
    "info": ":white_check_mark:",
}
#: Slack's limits: a section's text, a header's text, fields per section, blocks per message
_SLACK_TEXT: Final = 2900
_SLACK_HEADER: Final = 150


def teams_card(content: dict[str, Any]) -> dict[str, Any]:
    """An Office 365 connector MessageCard (what Teams incoming webhooks accept)."""
    sections: list[dict[str, Any]] = [
        {
            "activityTitle": content["title"],
            "text": content["text"].replace("\n", "<br>"),
            "facts": [{"name": name, "value": value} for name, value in content["facts"]],
        }
    ]
    if content["next_steps"]:
        steps = "<br>".join(f"- {step}" for step in content["next_steps"])
        sections.append({"activityTitle": "What to do next", "text": steps})
    card: dict[str, Any] = {
        "@type": "MessageCard",
        "@context": "https://schema.org/extensions",
        "themeColor": _TEAMS_COLOURS.get(content["severity"], "808080"),
        "summary": content["title"],
        "title": content["title"],
        "sections": sections,
    }
    if content["links"]:
        card["potentialAction"] = [
            {"@type": "OpenUri", "name": label, "targets": [{"os": "default", "uri": url}]}
            for label, url in content["links"]
        ]
    return card


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_blocks(content: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook payload: ``text`` (notifications, fallback) and ``blocks``."""
    emoji = _SLACK_EMOJI.get(content["severity"], "")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": content["title"][:_SLACK_HEADER]},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"{emoji} {_slack_escape(content['text'])}"[:_SLACK_TEXT],
            },
        },
    ]
    if content["facts"]:
        fields = [
            {"type": "mrkdwn", "text": f"*{_slack_escape(n)}*\n{_slack_escape(v)}"}
            for n, v in content["facts"][:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    if content["next_steps"]:
        steps = "\n".join(f"• {_slack_escape(s)}" for s in content["next_steps"])
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": f"*What to do next*\n{steps}"[:_SLACK_TEXT]},
            }
        )
    if content["links"]:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": label}, "url": url}
                    for label, url in content["links"]
                ],
            }
        )
    return {"text": f"{emoji} {content['title']}", "blocks": blocks}


def webhook_body(content: dict[str, Any], key: str, channel: str) -> bytes:
    """The generic webhook's JSON body (stable bytes: the same on every retry)."""
    body = {"idempotency_key": key, "channel": channel, **content}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def email_message(
    content: dict[str, Any], key: str, sender: str, recipients: tuple[str, ...]
) -> EmailMessage:
    """A plain-text e-mail; ``Message-ID`` derives from the idempotency key."""
    message = EmailMessage()
    message["Subject"] = f"[irpd] {content['title']}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = f"<{key}@irpd>"
    message["Idempotency-Key"] = key
    lines = [content["text"], ""]
    lines.extend(f"{name}: {value}" for name, value in content["facts"])
    if content["next_steps"]:
        lines.extend(["", "What to do next:"])
        lines.extend(f"- {step}" for step in content["next_steps"])
    if content["links"]:
        lines.append("")
        lines.extend(f"{label}: {url}" for label, url in content["links"])
    message.set_content("\n".join(lines) + "\n")
    return message
