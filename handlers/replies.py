"""Telling the person who clicked why it did not count: ephemerally where they clicked (in its
thread), else as a direct message, in their language."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.presenter import error_message
from handlers.languages import Languages
from handlers.style import SLACK

Where = tuple[str, str | None]  # channel, thread


def where_clicked(body: dict[str, Any]) -> Where | None:
    """The channel and thread of the message clicked; None when the payload names none."""
    channel = body.get("channel", {}).get("id") or body.get("container", {}).get("channel_id")
    if not channel:
        return None
    return str(channel), (body.get("message") or {}).get("thread_ts")


async def tell(
    languages: Languages, client: AsyncWebClient, user: str, where: Where | None, exc: Exception
) -> None:
    text = error_message(await languages.of(user), exc, SLACK)
    if where is not None:
        channel, thread_ts = where
        kwargs: dict[str, Any] = {"thread_ts": thread_ts} if thread_ts else {}
        await client.chat_postEphemeral(channel=channel, user=user, text=text, **kwargs)
    else:
        await client.chat_postMessage(channel=user, text=text)
