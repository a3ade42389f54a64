"""Guided steps: the answer buttons on console instructions and the modals they open."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine
from bot.errors import DdiBotError
from bot.guidance import VERIFIED_TEXT, GuideAction
from bot.i18n import t
from handlers import modals
from handlers.ack import record_then_ack, within_access_budget
from handlers.ids import GUIDE_PATTERN, GUIDE_PREFIX, View, case_ref
from handlers.languages import Languages
from handlers.replies import Where, tell, where_clicked

log = logging.getLogger(__name__)


def parse_guide(action: dict[str, Any]) -> tuple[GuideAction, int, int] | None:
    """(action, case id, case version) from a guide button, or None if it is malformed."""
    action_id = str(action.get("action_id", ""))
    if not GUIDE_PATTERN.match(action_id):
        return None
    try:
        which = GuideAction(action_id.removeprefix(GUIDE_PREFIX))
    except ValueError:
        return None
    ref = case_ref(action.get("value", ""))
    return None if ref is None else (which, *ref)


def register(app: AsyncApp, engine: Engine, languages: Languages) -> None:
    @app.action(GUIDE_PATTERN)
    async def on_guide(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = str(body.get("user", {}).get("id", ""))
        where = where_clicked(body)
        parsed = parse_guide(action)
        if parsed is None:
            await ack()
            log.warning("ignoring malformed guide payload from %s", user)
            return
        which, case_id, version = parsed
        if which in (GuideAction.OTHER, GuideAction.COUNT):
            await ack()
            # trigger_id lives 3 s: open the modal now, not in a background task
            await _reply_on_error(
                languages,
                client,
                user,
                where,
                _open_modal(engine, client, body, which, case_id, version),
            )
            return
        if which == GuideAction.VERIFIED:
            work = engine.guide.connection(case_id, version, VERIFIED_TEXT, user)
        else:
            work = engine.guide.rebooted(case_id, version, user)
        told = functools.partial(tell, languages, client, user, where)
        await record_then_ack(ack, engine.tasks, work, told, "guide-answer", engine.foreground)

    @app.view(View.CONNECTION_MESSAGE.value)
    async def on_connection(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body.get("view", {})
        user = str(body.get("user", {}).get("id", ""))
        found = modals.case_of(view)
        shown = modals.text_value(view, modals.MESSAGE_BLOCK)
        maintenance = modals.choice_value(view, modals.MAINTENANCE_BLOCK)
        if not shown.strip():  # Slack requires the field, but spaces pass its check
            lang = await languages.of(user)
            errors = {modals.MESSAGE_BLOCK: t(lang, "modal.connection.empty")}
            await ack(response_action="errors", errors=errors)
            return
        if found is None or maintenance is None:
            await ack()
            log.warning("ignoring malformed connection modal from %s", user)
            return
        case_id, version = found
        notes = modals.text_value(view, modals.NOTES_BLOCK)

        async def work() -> None:
            # the maintenance answer is kept even if someone else answered the step first
            await engine.guide.maintenance(case_id, maintenance, notes, user)
            await engine.guide.connection(case_id, version, shown, user)

        told = functools.partial(tell, languages, client, user, None)
        await record_then_ack(ack, engine.tasks, work(), told, "guide-modal", engine.foreground)

    @app.view(View.DETECTION_COUNT.value)
    async def on_count(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body.get("view", {})
        user = str(body.get("user", {}).get("id", ""))
        found = modals.case_of(view)
        count = modals.count_value(view)
        if count is None:
            lang = await languages.of(user)
            errors = {modals.COUNT_BLOCK: t(lang, "modal.count.invalid")}
            await ack(response_action="errors", errors=errors)
            return
        if found is None:
            await ack()
            log.warning("ignoring malformed count modal from %s", user)
            return
        case_id, version = found
        work = engine.guide.count(case_id, version, count, user)
        told = functools.partial(tell, languages, client, user, None)
        await record_then_ack(ack, engine.tasks, work, told, "guide-count", engine.foreground)


async def _open_modal(
    engine: Engine,
    client: AsyncWebClient,
    body: dict[str, Any],
    which: GuideAction,
    case_id: int,
    version: int,
) -> None:
    user = str(body.get("user", {}).get("id", ""))
    await within_access_budget(engine.guide.check_may_answer(user), user)  # trigger_id: 3 s
    view = await engine.guide.waiting_step(case_id, version)
    build: Callable[[str, int, int], dict[str, Any]] = (
        modals.connection_modal if which == GuideAction.OTHER else modals.count_modal
    )
    await client.views_open(
        trigger_id=str(body.get("trigger_id", "")), view=build(view.lang, case_id, version)
    )


async def _reply_on_error(
    languages: Languages,
    client: AsyncWebClient,
    user: str,
    where: Where | None,
    work: Awaitable[None],
) -> None:
    """Errors reach the person: ephemerally where they clicked, else as a direct message."""
    try:
        await work
    except Exception as exc:
        if not isinstance(exc, DdiBotError):
            log.exception("guided answer failed")
        try:
            await tell(languages, client, user, where, exc)
        except Exception:
            log.exception("could not tell %s about a failed answer", user)
