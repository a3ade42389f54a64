"""The App Home tab: published with ``views.publish`` each time someone opens it, in their
language (``app_home_opened``), and again for those who opened it lately when a case changes
(in any replica: ``HomeTabs.refresh_forever``)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine
from bot.home import HomeFacts, Section, home_sections
from bot.presenter import Style
from handlers.blocks import clip, text_sections
from handlers.languages import Languages
from handlers.style import SLACK

log = logging.getLogger(__name__)
HEADER_LIMIT = HeaderBlock.text_max_length  # 150
KEEP_VIEWERS = 15 * 60.0  # seconds: who opened the tab this recently sees it kept up to date
REFRESH_EVERY = 30.0  # seconds between looks for a change (views.publish per viewer at most)
MAX_VIEWERS = 50  # the most recent: views.publish is Tier 4 (100+ per minute)
MAX_HOME_BLOCKS = View.blocks_max_length  # 100


def home_view(sections: list[Section]) -> View:
    """A Home tab of titled sections, within Slack's limits (the last section is kept)."""
    blocks: list[Block] = []
    for index, section in enumerate(sections):
        part: list[Block] = []
        if index:
            part.append(DividerBlock())
        if section.title:
            part.append(HeaderBlock(text=PlainTextObject(text=clip(section.title, HEADER_LIMIT))))
        part += text_sections(section.text)
        room = MAX_HOME_BLOCKS - len(blocks) - (len(sections) - index - 1) * 3
        blocks += part[: max(room, 1)]
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])


def home_payload(lang: str, facts: HomeFacts, style: Style = SLACK) -> dict[str, Any]:
    payload: dict[str, Any] = home_view(home_sections(lang, facts, style)).to_dict()
    return payload


class HomeTabs:
    """Publishes the Home tab, and keeps it up to date for those who opened it lately."""

    def __init__(self, engine: Engine, client: AsyncWebClient, languages: Languages) -> None:
        self.engine = engine
        self.client = client
        self.languages = languages
        self.viewers: dict[str, float] = {}  # user -> when they last opened it (monotonic)
        self.mark: tuple[int, ...] | None = None  # the engine's change mark when last published

    async def opened(self, user: str) -> None:
        self.viewers.pop(user, None)  # re-inserted last: the dict keeps the most recent last
        self.viewers[user] = time.monotonic()
        while len(self.viewers) > MAX_VIEWERS:
            del self.viewers[next(iter(self.viewers))]
        await self.publish(user, await self.engine.home())

    async def publish(self, user: str, facts: HomeFacts) -> None:
        try:
            lang = await self.languages.of(user)
            await self.client.views_publish(user_id=user, view=home_payload(lang, facts))
        except SlackApiError as exc:
            log.warning("App Home for %s not published: %s", user, exc.response.get("error"))

    async def refresh(self) -> int:
        """Publish again for the recent viewers if a case or an alert changed since; how
        many."""
        now = time.monotonic()
        for user in [u for u, seen in self.viewers.items() if now - seen > KEEP_VIEWERS]:
            del self.viewers[user]
        mark = await self.engine.last_change()
        changed, self.mark = mark != self.mark, mark
        if not (changed and self.viewers):
            return 0
        facts = await self.engine.home()  # one read for every viewer
        for user in list(self.viewers):
            await self.publish(user, facts)
        return len(self.viewers)

    async def refresh_forever(self, every: float = REFRESH_EVERY) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.refresh()
            except Exception:  # the database or Slack failing: try again next time
                log.exception("App Home: refresh failed")


def register(app: AsyncApp, tabs: HomeTabs) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any]) -> None:
        if event.get("tab") not in (None, "home"):
            return  # the Messages tab
        user = str(event.get("user") or "")
        if not user:
            return
        try:
            await tabs.opened(user)
        except Exception:
            log.exception("App Home for %s could not be built", user)
