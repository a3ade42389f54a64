"""``/ddi-check``: answer within 3 s, open the case in a tracked background task."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine
from bot.errors import CaseAlreadyOpen, DdiBotError, UnknownAppliance
from bot.i18n import t
from bot.presenter import SLACK, error_message, slack_escape
from handlers.ids import Command

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
        await ack(text=t(lang, "ack.opening", appliance=slack_escape(appliance.name)))
        channel = str(command.get("channel_id") or "") or None
        engine.tasks.spawn(
            _open(engine, appliance.name, user, channel, respond, client),
            f"open-{appliance.name}",
        )


async def _open(
    engine: Engine,
    name: str,
    user: str,
    channel: str | None,
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    lang = engine.config.lang
    try:
        await engine.open_case(name, user, channel)
    except CaseAlreadyOpen as exc:
        link = await _permalink(client, exc.params.get("thread"))
        text = error_message(lang, exc, SLACK, link)
        view, thread = exc.params.get("view"), exc.params.get("thread")
        if view is not None and thread is not None and await engine.ask_again(view, thread):
            text += "\n" + t(lang, "error.case_already_open.reasked")
        await respond(text=text, response_type="ephemeral")
    except DdiBotError as exc:
        await respond(text=error_message(lang, exc, SLACK), response_type="ephemeral")
    except Exception as exc:
        log.exception("opening a case for %s failed", name)
        await respond(text=error_message(lang, exc, SLACK), response_type="ephemeral")


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


async def _permalink(client: AsyncWebClient, thread: Any) -> str | None:
    if thread is None:
        return None
    try:
        response = await client.chat_getPermalink(channel=thread.channel, message_ts=thread.ts)
    except Exception:
        log.warning("could not get a permalink for %s", thread)
        return None
    link = response.get("permalink")
    return str(link) if link else None
