"""The App Home tab: published with ``views.publish`` each time someone opens it, in their
language (``app_home_opened``)."""

from __future__ import annotations

import logging
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


def register(app: AsyncApp, engine: Engine, languages: Languages) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return  # the Messages tab
        user = str(event.get("user") or "")
        if not user:
            return
        try:
            lang = await languages.of(user)
            facts = await engine.home()
            await client.views_publish(user_id=user, view=home_payload(lang, facts))
        except SlackApiError as exc:
            log.warning("App Home for %s not published: %s", user, exc.response.get("error"))
        except Exception:
            log.exception("App Home for %s could not be built", user)
