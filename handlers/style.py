"""How Slack shows outside text and people: mrkdwn escaping, user and user group mentions."""

from __future__ import annotations

from bot.engine.roster import is_group
from bot.presenter import Style


def slack_escape(text: str) -> str:
    """Slack's three control characters; keeps outside text from pinging or faking links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user: str) -> str:
    """``<@U…>`` for a person, ``<!subteam^S…>`` for a user group (as settings may list)."""
    if is_group(user):
        return f"<!subteam^{slack_escape(user)}>"
    return f"<@{slack_escape(user)}>"


SLACK = Style(escape=slack_escape, mention=mention)
