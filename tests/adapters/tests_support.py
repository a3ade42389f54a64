"""Helpers the adapter tests share."""

from __future__ import annotations

from bot.engine.context import Context
from bot.engine.outbox import queue
from bot.engine.outgoing import post
from bot.presenter import Message
from storage import cases


async def post_rows(ctx: Context, case_id: int, texts: list[str]) -> None:
    """Queue thread messages for a case, as transitions would."""
    async with ctx.db.write() as session:
        row = await cases.lock(session, case_id)
        assert row is not None
        await queue(
            session,
            case_id=case_id,
            channel=row.channel or "",
            reply_url=None,
            items=[post(Message(text)) for text in texts],
            now=ctx.clock(),
        )
