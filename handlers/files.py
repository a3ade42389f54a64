"""Files posted in case threads. Slack sends ``file_shared`` and a ``message`` with subtype
``file_share`` for the same file; both hand the file id to the engine, which takes it once."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.engine import Engine

log = logging.getLogger(__name__)
MAX_FILES_PER_MESSAGE = 20


def file_ids(event: dict[str, Any]) -> list[str]:
    """The file ids an event announces (``file_shared`` or a ``file_share`` message)."""
    if event.get("type") == "file_shared":
        file_id = event.get("file_id") or (event.get("file") or {}).get("id")
        return [str(file_id)] if file_id else []
    if event.get("type") == "message" and event.get("subtype") == "file_share":
        files = event.get("files") or []
        return [str(f["id"]) for f in files[:MAX_FILES_PER_MESSAGE] if f.get("id")]
    return []


def register(app: AsyncApp, engine: Engine) -> None:
    async def take(event: dict[str, Any], context: AsyncBoltContext) -> None:
        channel, thread_ts = event.get("channel"), event.get("thread_ts")
        hint = (str(channel), str(thread_ts)) if channel and thread_ts else None
        for file_id in file_ids(event):
            work = engine.uploads.file_posted(file_id, context.bot_user_id, hint)
            engine.tasks.spawn(work, f"file-{file_id}")

    @app.event("file_shared")
    async def on_file_shared(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await take(event, context)

    @app.event({"type": "message", "subtype": "file_share"})
    async def on_file_message(event: dict[str, Any], context: AsyncBoltContext) -> None:
        await take(event, context)

    @app.event("message")
    async def on_other_message(event: dict[str, Any]) -> None:
        """Other messages in channels the bot is in: nothing to do, but acknowledged."""
