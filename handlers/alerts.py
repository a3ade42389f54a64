"""An alert's "Open a case" button: the appliance's normal case, opened by whoever clicked
(operators only), recorded before Slack is answered."""

from __future__ import annotations

import functools
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Engine
from handlers.ack import record_then_ack
from handlers.ids import ALERT_OPEN_CASE
from handlers.languages import Languages
from handlers.replies import tell, where_clicked

log = logging.getLogger(__name__)


def parse_alert(action: dict[str, Any]) -> int | None:
    """The alert id of an "Open a case" button, or None if it is malformed."""
    value = str(action.get("value", ""))
    return int(value) if value.isdigit() and len(value) < 12 else None


def register(app: AsyncApp, engine: Engine, languages: Languages) -> None:
    @app.action(ALERT_OPEN_CASE)
    async def on_open_case(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient
    ) -> None:
        user = str(body.get("user", {}).get("id", ""))
        alert_id = parse_alert(action)
        if alert_id is None:
            await ack()
            log.warning("ignoring malformed alert button payload from %s", user)
            return

        async def work() -> None:  # the case in the language of the person who clicked
            await engine.open_from_alert(alert_id, user, await languages.of(user))

        told = functools.partial(tell, languages, client, user, where_clicked(body))
        await record_then_ack(
            ack, engine.tasks, work(), told, f"alert-{alert_id}", engine.foreground
        )
