"""``/ddi-check``: the case is recorded durably before Slack is answered (well within 3 s);
everything else it does follows from the database."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine, Thread
from bot.errors import CaseAlreadyOpen, DdiBotError, UnknownAppliance
from bot.i18n import t
from bot.presenter import error_message
from handlers.ids import Command
from handlers.style import SLACK, slack_escape

log = logging.getLogger(__name__)


HELP_WORDS = ("help", "-h", "--help", "ヘルプ")
STOP_WORDS = ("escalate", "stop")


def parse_command_text(text: str | None) -> tuple[str, str | None]:
    """("help", None), ("check", appliance) or ("escalate", appliance)."""
    words = (text or "").split()
    if not words or words[0].lower() in HELP_WORDS:
        return "help", None
    if words[0].lower() in STOP_WORDS and len(words) > 1:
        return "escalate", words[1]
    return "check", words[0]


def register(app: AsyncApp, engine: Engine) -> None:
    @app.command(Command.DDI_CHECK.value)
    async def ddi_check(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        lang = engine.config.lang
        user = str(command.get("user_id", ""))
        action, name = parse_command_text(command.get("text"))
        if name is None:
            names = ", ".join(f"`{slack_escape(a.name)}`" for a in engine.inventory.appliances)
            await ack(text=t(lang, "help", names=names or "—"))
            return
        if not engine.may_run(user):
            await ack(text=t(lang, "error.not_operator"))
            return
        try:
            appliance = engine.inventory.get(name)
        except UnknownAppliance as exc:
            await ack(text=error_message(lang, exc, SLACK))
            return
        if action == "escalate":
            await ack()
            engine.tasks.spawn(_stop(engine, appliance.name, user, respond), f"stop-{name}")
            return
        channel = str(command.get("channel_id") or "") or None
        reply_url = str(command.get("response_url") or "") or None
        try:  # recorded before the ack: a crash right after it still has the case
            await engine.admit(appliance.name, user, channel, reply_url=reply_url)
        except CaseAlreadyOpen as exc:
            await ack()
            engine.tasks.spawn(_already_open(engine, exc, respond, client), f"open-{name}")
            return
        except Exception as exc:  # DdiBotError, or the database failing: never a traceback
            if not isinstance(exc, DdiBotError):
                log.exception("opening a case for %s failed", name)
            await ack()
            await respond(text=error_message(lang, exc, SLACK), response_type="ephemeral")
            return
        await ack(text=t(lang, "ack.opening", appliance=slack_escape(appliance.name)))


async def _already_open(
    engine: Engine, exc: CaseAlreadyOpen, respond: AsyncRespond, client: AsyncWebClient
) -> None:
    """Point the person to the open case, and post again what it waits for."""
    lang = engine.config.lang
    try:
        thread = exc.params.get("thread")
        link = await _permalink(client, thread)
        text = error_message(lang, exc, SLACK, link)
        view = exc.params.get("view")
        if view is not None and await engine.ask_again(view):
            text += "\n" + t(lang, "error.case_already_open.reasked")
    except Exception as failure:
        log.exception("pointing to the open case failed")
        text = error_message(lang, failure, SLACK)
    await respond(text=text, response_type="ephemeral")


async def _stop(engine: Engine, name: str, user: str, respond: AsyncRespond) -> None:
    lang = engine.config.lang
    try:
        result = await engine.stop(name, user)
        text = t(lang, "ack.escalated", case_id=result.after.case_id, appliance=slack_escape(name))
    except Exception as exc:
        if not isinstance(exc, DdiBotError):
            log.exception("escalating %s failed", name)
        text = error_message(lang, exc, SLACK)
    await respond(text=text, response_type="ephemeral")


async def _permalink(client: AsyncWebClient, thread: Thread | None) -> str | None:
    if thread is None:
        return None
    try:
        response = await client.chat_getPermalink(channel=thread.channel, message_ts=thread.ts)
    except Exception:
        log.warning("could not get a permalink for %s", thread)
        return None
    link = response.get("permalink")
    return str(link) if link else None
