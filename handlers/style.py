"""How Slack shows outside text and people: mrkdwn escaping and user mentions."""

from __future__ import annotations

from bot.presenter import Style


def slack_escape(text: str) -> str:
    """Slack's three control characters; keeps outside text from pinging or faking links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user: str) -> str:
    return f"<@{slack_escape(user)}>"


SLACK = Style(escape=slack_escape, mention=mention)
