"""Where the engine tells people what happens: the Slack thread, or the demo's terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.presenter import CaseView, Message, Prompt, Style


@dataclass(frozen=True)
class Thread:
    channel: str
    ts: str


class Notifier(Protocol):
    style: Style

    async def open_thread(self, view: CaseView, channel: str | None) -> Thread:
        """Post the case's root message; raise ``SlackPostFailed`` if it cannot be posted."""
        ...

    async def update_header(self, view: CaseView, thread: Thread) -> None: ...

    async def post(self, view: CaseView, thread: Thread, message: Message) -> None: ...

    async def ask(self, view: CaseView, thread: Thread, prompt: Prompt) -> None: ...

    async def upload(
        self, view: CaseView, thread: Thread, filename: str, content: bytes, title: str
    ) -> None:
        """Attach a file (a chart) to the case's thread."""
        ...
