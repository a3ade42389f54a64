"""What a transition asks to be shown to people: plain data, queued in the outbox by the same
transaction, delivered later by ``bot.engine.delivery``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.messenger import Attachment, Content


class Kind(StrEnum):
    ROOT = "root"  # the case's root message: its thread starts here
    POST = "post"  # a message (or a question) in the case's thread
    HEADER = "header"  # the root message again, as the case is now (only the latest counts)
    UPDATE = "update"  # replace a message already posted (a question once decided)
    ATTACH = "attach"  # a file in the thread (the capture chart)
    REPLY = "reply"  # a private answer to the person who ran the command


@dataclass(frozen=True)
class Outgoing:
    kind: Kind
    content: Content | None = None
    attachment: Attachment | None = None
    target_ts: str | None = None  # UPDATE: the message it replaces
    key: str | None = None  # once-only: a second row with the same key is not queued
    text: str | None = None  # REPLY


def post(content: Content, key: str | None = None) -> Outgoing:
    return Outgoing(Kind.POST, content, key=key)
