"""How Slack shows outside text and people: mrkdwn escaping, user and user group mentions."""

from __future__ import annotations

import re

from bot.engine.roster import is_group
from bot.presenter import Style


def slack_escape(text: str) -> str:
    """Slack's three control characters; keeps outside text from pinging or faking links."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SLACK_USER = re.compile(r"[UW][A-Z0-9]+")


def mention(user: str) -> str:
    """``<@U…>`` for a person, ``<!subteam^S…>`` for a user group (as settings may list);
    anything else (the bot itself, for a case its fleet watch opened) as plain text."""
    if is_group(user):
        return f"<!subteam^{slack_escape(user)}>"
    if not SLACK_USER.fullmatch(user):
        return f"_{slack_escape(user)}_"
    return f"<@{slack_escape(user)}>"


def channel_link(channel: str) -> str:
    """``<#C…>``: Slack shows the channel's name, linked."""
    return f"<#{slack_escape(channel)}>"


SLACK = Style(escape=slack_escape, mention=mention, channel=channel_link)
