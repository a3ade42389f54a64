"""The language a person reads: their Slack locale (``users.info`` with ``include_locale``),
Japanese for ``ja-JP``, English for any other; ``DDI_BOT_LANG`` when Slack does not say (no
locale, an error, no answer within a second: a check's answer never waits long for it).
Kept an hour per person; a failed look-up is tried again after a minute; requests of one
person that arrive together share one look-up."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)
KEEP = 3600.0  # seconds a person's language is kept
KEEP_UNKNOWN = 60.0  # seconds before a look-up that failed is tried again
ASK_WITHIN = 1.0  # seconds users.info has to answer


def lang_of_locale(locale: str | None, default: str) -> str:
    if not locale:
        return default
    return "ja" if locale.replace("_", "-").lower().startswith("ja") else "en"


class Languages:
    def __init__(
        self,
        client: AsyncWebClient,
        default: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.default = default
        self.clock = clock
        self._known: dict[str, tuple[float, str]] = {}  # user -> (until, lang)
        self._asking: dict[str, asyncio.Task[str]] = {}  # user -> the look-up under way

    async def of(self, user: str | None) -> str:
        if not user:
            return self.default
        known = self._known.get(user)
        if known is not None and self.clock() < known[0]:
            return known[1]
        asking = self._asking.get(user)
        if asking is None:  # one look-up per person, however many requests arrive together
            asking = asyncio.create_task(self._look_up(user), name=f"locale-{user}")
            self._asking[user] = asking
            asking.add_done_callback(lambda _task: self._asking.pop(user, None))
        return await asyncio.shield(asking)

    async def _look_up(self, user: str) -> str:
        locale, keep = await self._locale(user)
        lang = lang_of_locale(locale, self.default)
        self._known[user] = (self.clock() + keep, lang)
        return lang

    async def _locale(self, user: str) -> tuple[str | None, float]:
        try:
            async with asyncio.timeout(ASK_WITHIN):
                answer = await self.client.users_info(user=user, include_locale=True)
        except SlackApiError as exc:
            log.info("users.info for %s: %s", user, exc.response.get("error"))
            return None, KEEP_UNKNOWN
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            log.info("users.info for %s: %s", user, type(exc).__name__)
            return None, KEEP_UNKNOWN
        found = answer.get("user") or {}
        locale = found.get("locale") if isinstance(found, dict) else None
        return (str(locale) if locale else None), KEEP
