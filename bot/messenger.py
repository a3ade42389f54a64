"""Where people see what a case does: Slack, or the demo's terminal. The outbox delivers
through this port; the adapters behind it know the chat system, the engine does not."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.presenter import Button, Confirm, Message, Option, Prompt, Style
from bot.runbook import Choice, DecisionPoint

Content = Message | Prompt


@dataclass(frozen=True)
class Ref:
    """Which outbox row a message is: posted with it, so it can be found again."""

    outbox_id: int
    case_id: int | None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    title: str


class Messenger(Protocol):
    style: Style  # how outside text is escaped and people are named in this medium

    async def post(self, channel: str, thread_ts: str | None, content: Content, ref: Ref) -> str:
        """Post a message (a thread's root when ``thread_ts`` is None); its ts.

        Raise ``bot.errors.DeliveryError`` when it could not be posted, saying whether a
        retry can help and whether it may have been posted after all."""
        ...

    async def update(self, channel: str, ts: str, content: Content) -> None:
        """Replace a posted message (idempotent)."""
        ...

    async def attach(self, channel: str, thread_ts: str, file: Attachment, ref: Ref) -> None:
        """Attach a file to a thread."""
        ...

    async def find(
        self,
        channel: str,
        thread_ts: str | None,
        ref: Ref,
        since: datetime,
        filename: str | None = None,
    ) -> str | None:
        """The ts of the message posted for ``ref`` since ``since`` (with ``filename``: the
        file attached to the thread), if it was posted after all (after a timeout, say);
        None if it was not."""
        ...

    async def reply(self, url: str, text: str) -> None:
        """Tell the person who asked (their command's reply address) something privately."""
        ...


def to_body(content: Content) -> dict[str, object]:
    """Content as plain data, to be stored in the outbox."""
    if isinstance(content, Prompt):
        return {"prompt": asdict(content)}
    return {"message": asdict(content)}


def from_body(body: dict[str, Any]) -> Content:
    if "prompt" in body:
        data = body["prompt"]
        options = tuple(
            Option(
                choice=Choice(o["choice"]),
                label=o["label"],
                style=o["style"],
                confirm=Confirm(**o["confirm"]) if o["confirm"] else None,
                recommended=o["recommended"],
            )
            for o in data["options"]
        )
        return Prompt(
            case_id=data["case_id"],
            version=data["version"],
            point=DecisionPoint(data["point"]),
            text=data["text"],
            options=options,
            evidence=data.get("evidence"),  # absent from rows queued before evidence binding
        )
    data = body["message"]
    return Message(data["text"], tuple(Button(**b) for b in data["buttons"]))
