"""``/ddi-check``: the case is recorded durably before Slack is answered (well within 3 s);
everything else it does follows from the database."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine, Thread
from bot.errors import AccessSlow, CaseAlreadyOpen, CaseNotFound, DdiBotError, UnknownAppliance
from bot.i18n import t
from bot.inventory import Inventory
from bot.listing import history_text, open_cases_text
from bot.presenter import error_message
from bot.status import status_text
from bot.watch.text import alerts_text
from handlers.ack import ACK_WITHIN, within_access_budget
from handlers.ids import Command
from handlers.languages import Languages
from handlers.style import SLACK, slack_escape

log = logging.getLogger(__name__)


_CASE_NUMBER = re.compile(r"[0-9]{1,9}")
HELP_WORDS = ("help", "-h", "--help", "ヘルプ")
STOP_WORDS = ("escalate", "stop")
EXPORT_WORDS = ("export",)
HISTORY_WORDS = ("history",)
LIST_WORDS = ("list",)
STATUS_WORDS = ("status",)


def parse_command_text(text: str | None) -> tuple[str, str | None]:
    """("help", None), ("list", None), ("check", appliance), ("escalate", appliance),
    ("history", appliance), ("status", appliance) or ("export", case number)."""
    words = (text or "").split()
    if not words or words[0].lower() in HELP_WORDS:
        return "help", None
    if words[0].lower() in STOP_WORDS and len(words) > 1:
        return "escalate", words[1]
    if words[0].lower() in EXPORT_WORDS and len(words) > 1:
        return "export", words[1]
    if words[0].lower() in HISTORY_WORDS and len(words) > 1:
        return "history", words[1]
    if words[0].lower() in STATUS_WORDS and len(words) > 1:
        return "status", words[1]
    if words[0].lower() in LIST_WORDS and len(words) == 1:
        return "list", None
    return "check", words[0]


class HelpNames:
    """The inventory's names as the help lists them, escaped once per inventory rather than on
    every ``help`` (a thousand sensors: a thousand escapes per answer)."""

    def __init__(self) -> None:
        self._of: tuple[Inventory, str] | None = None

    def of(self, inventory: Inventory) -> str:
        if self._of is None or self._of[0] is not inventory:
            names = ", ".join(f"`{slack_escape(a.name)}`" for a in inventory.appliances)
            self._of = (inventory, names or "—")
        return self._of[1]


def register(app: AsyncApp, engine: Engine, languages: Languages) -> None:
    help_names = HelpNames()

    @app.command(Command.DDI_CHECK.value)
    async def ddi_check(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        user = str(command.get("user_id", ""))
        lang = await languages.of(user)  # the person's, from their Slack locale
        action, name = parse_command_text(command.get("text"))
        if action == "help":
            await ack(text=t(lang, "help", names=help_names.of(engine.inventory)))
            return
        started = time.monotonic()
        try:
            allowed = await within_access_budget(engine.may_run(user), user)
        except AccessSlow as exc:
            await ack(text=error_message(lang, exc, SLACK))
            return
        if not allowed:
            await ack(text=t(lang, "error.not_operator"))
            return
        if action in _ANSWERS:
            await ack()
            answer = _ANSWERS[action](engine, name or "", user, lang)
            engine.tasks.spawn(_respond(answer, respond, lang, action), f"{action}-{name}")
            return
        assert name is not None
        try:
            appliance = engine.inventory.get(name)
        except UnknownAppliance as exc:
            await ack(text=error_message(lang, exc, SLACK))
            return
        if action == "escalate":
            await ack()
            engine.tasks.spawn(_stop(engine, appliance.name, user, respond, lang), f"stop-{name}")
            return
        channel = str(command.get("channel_id") or "") or None
        reply_url = str(command.get("response_url") or "") or None
        opening = t(lang, "ack.opening", appliance=slack_escape(appliance.name))
        # recorded before the ack, so that a crash right after it still has the case; but
        # Slack is answered within its 3 s even when the database is that slow
        admitted = engine.tasks.spawn(
            _admit(engine, appliance.name, user, channel, reply_url, lang), f"admit-{name}"
        )
        await asyncio.wait({admitted}, timeout=ACK_WITHIN - (time.monotonic() - started))
        if not admitted.done():
            await ack(text=opening)
            later = _answer_later(engine, admitted, respond, client, lang)
            engine.tasks.spawn(later, f"open-{name}")
            return
        failure = admitted.result()
        if failure is None:
            await ack(text=opening)
            return
        await ack()
        engine.tasks.spawn(_refused(engine, failure, respond, client, lang), f"open-{name}")


async def _admit(
    engine: Engine, name: str, user: str, channel: str | None, reply_url: str | None, lang: str
) -> Exception | None:
    """Record the case, in the language of the person who asked; what refused it, if
    anything (never raises)."""
    try:
        await engine.admit(name, user, channel, lang=lang, reply_url=reply_url)
    except Exception as exc:  # DdiBotError, or the database failing: never a traceback
        if not isinstance(exc, DdiBotError):
            log.exception("opening a case for %s failed", name)
        return exc
    return None


async def _answer_later(
    engine: Engine,
    admitted: asyncio.Task[Exception | None],
    respond: AsyncRespond,
    client: AsyncWebClient,
    lang: str,
) -> None:
    """Slack was told "opening…" before the case was recorded: say so if it was not."""
    failure = await admitted
    if failure is not None:
        await _refused(engine, failure, respond, client, lang)


async def _refused(
    engine: Engine, failure: Exception, respond: AsyncRespond, client: AsyncWebClient, lang: str
) -> None:
    await engine.foreground.wait_turn()  # after the other checks of a burst are answered
    if isinstance(failure, CaseAlreadyOpen):
        await _already_open(engine, failure, respond, client, lang)
        return
    text = error_message(lang, failure, SLACK)
    try:
        await respond(text=text, response_type="ephemeral")
    except Exception:
        log.exception("could not tell the person why their check did not open")


async def _already_open(
    engine: Engine, exc: CaseAlreadyOpen, respond: AsyncRespond, client: AsyncWebClient, lang: str
) -> None:
    """Point the person to the open case, and post again what it waits for."""
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


async def _stop(engine: Engine, name: str, user: str, respond: AsyncRespond, lang: str) -> None:
    try:
        result = await engine.stop(name, user)
        text = t(lang, "ack.escalated", case_id=result.after.case_id, appliance=slack_escape(name))
    except Exception as exc:
        if not isinstance(exc, DdiBotError):
            log.exception("escalating %s failed", name)
        text = error_message(lang, exc, SLACK)
    await respond(text=text, response_type="ephemeral")


async def _export(engine: Engine, number: str, user: str, lang: str) -> str:
    case_id = number.lstrip("#")
    if not _CASE_NUMBER.fullmatch(case_id):
        raise CaseNotFound(number)
    view = await engine.export(int(case_id), user)
    return t(lang, "ack.exported", case_id=view.case_id, appliance=slack_escape(view.appliance))


async def _list(engine: Engine, _name: str, _user: str, lang: str) -> str:
    cases = open_cases_text(lang, await engine.open_entries(), SLACK)
    return cases + "\n\n" + alerts_text(lang, await engine.open_alerts(), SLACK, engine.clock())


async def _history(engine: Engine, name: str, _user: str, lang: str) -> str:
    appliance, past = await engine.history(name)
    return history_text(lang, appliance, past, SLACK)


async def _status(engine: Engine, name: str, _user: str, lang: str) -> str:
    return status_text(lang, await engine.status(name), SLACK)


_ANSWERS: dict[str, Callable[[Engine, str, str, str], Awaitable[str]]] = {
    "export": _export,
    "list": _list,
    "history": _history,
    "status": _status,
}


async def _respond(answer: Awaitable[str], respond: AsyncRespond, lang: str, what: str) -> None:
    """Answer the person privately; an error becomes its one-line message, never a traceback."""
    try:
        text = await answer
    except Exception as exc:
        if not isinstance(exc, DdiBotError):
            log.exception("/ddi-check %s failed", what)
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
