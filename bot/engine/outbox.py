"""Queue what a transition shows people, in that transition's own transaction."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.engine.outgoing import Kind, Outgoing, post
from bot.messenger import Content, to_body
from bot.redact import redact
from storage import outbox
from storage.models import CaseRow

log = logging.getLogger(__name__)
REPLY_CHANNEL = "@reply"  # replies go to a command's reply address, not to a channel


def redacted(value: Any) -> Any:
    """Every text of a message, with credentials inside URLs masked (an error detail can
    quote a setting's URL): nothing secret reaches Slack."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redacted(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value


def stream_of(case_id: int) -> str:
    return f"case-{case_id}"


def row_of(
    item: Outgoing, case_id: int, channel: str, reply_url: str | None
) -> dict[str, Any] | None:
    """The outbox row for ``item`` (its columns), or None when it has nowhere to go."""
    stream, where, blob = stream_of(case_id), channel, None
    if item.kind == Kind.REPLY:
        if not reply_url:
            log.warning("case %s: nobody to reply to: %s", case_id, item.text)
            return None
        stream, where = f"reply-{case_id}", REPLY_CHANNEL
        body: dict[str, Any] = {"url": reply_url, "text": redacted(item.text)}
    elif item.kind == Kind.ATTACH:
        assert item.attachment is not None
        body = redacted({"filename": item.attachment.filename, "title": item.attachment.title})
        blob = item.attachment.content
    else:
        assert item.content is not None
        body = redacted(to_body(item.content))
    return {
        "stream": stream,
        "channel": where,
        "kind": item.kind.value,
        "body": body,
        "blob": blob,
        "key": item.key,
        "target_ts": item.target_ts,
        "case_id": case_id,
    }


async def queue(
    session: AsyncSession,
    *,
    case_id: int,
    channel: str,
    reply_url: str | None,
    items: Iterable[Outgoing],
    now: datetime,
) -> int:
    """Write the rows; how many were queued (a once-only row queued before is not again).
    Rows without a once-only key go in together, in one statement, in their order."""
    queued, plain = 0, []
    for item in items:
        row = row_of(item, case_id, channel, reply_url)
        if row is None:
            continue
        if item.kind == Kind.HEADER and await outbox.refresh_header(
            session, row["stream"], row["body"]
        ):
            continue  # the root update still waiting now says the newest
        if row["key"] is None:
            plain.append(row)
            continue
        await outbox.add_many(session, plain, now)  # the rows before it keep their place
        queued, plain = queued + len(plain), []
        queued += await outbox.add(session, now=now, **row) is not None
    await outbox.add_many(session, plain, now)
    return queued + len(plain)


async def say(
    session: AsyncSession, row: CaseRow, content: Content, now: datetime, key: str | None = None
) -> bool:
    """Queue one message in a case's thread, outside a transition (lock the case row first,
    so that it keeps its place among the case's own messages); False if ``key`` was queued."""
    queued = await queue(
        session,
        case_id=row.id,
        channel=row.channel or "",
        reply_url=None,
        items=[post(content, key=key)],
        now=now,
    )
    return queued == 1
