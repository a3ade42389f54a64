"""What ``serve`` checks with Slack before it starts: that the tokens are where they belong
and that Slack accepts the bot token (``auth.test``). Each problem is one line that says what to
fix; Slack being unreachable is not one (the outbox waits for it)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError

log = logging.getLogger(__name__)
START_WITHIN = 10.0  # seconds auth.test has at start (the client retries a failed connection)
# auth.test answers that mean the token will never work as it is
REFUSED = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
     "not_allowed_token_type", "missing_scope"}
)  # fmt: skip


def check_token_kinds(bot_token: str, app_token: str | None) -> None:
    """A bot token (xoxb-) and, for Socket Mode, an app-level token (xapp-), not swapped."""
    if bot_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_BOT_TOKEN holds an app-level token (xapp-…): put the Bot User OAuth Token "
            "(xoxb-…, under OAuth & Permissions) there, and the xapp- token in SLACK_APP_TOKEN"
        )
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError(
            "SLACK_APP_TOKEN is not an app-level token (xapp-…, under Basic Information → "
            "App-Level Tokens, with connections:write); the xoxb- token goes in SLACK_BOT_TOKEN"
        )


@dataclass(frozen=True)
class TokenCheck:
    """Slack's answer to ``auth.test``: ``refused`` (a code after which the token never works
    as it is), or ``unreachable`` (Slack could not be asked now, or answered something else)."""

    refused: str | None = None
    unreachable: str | None = None

    @property
    def ok(self) -> bool:
        return self.refused is None and self.unreachable is None

    def __str__(self) -> str:
        if self.refused is not None:
            return f"refused ({self.refused})"
        if self.unreachable is not None:
            return f"unreachable ({self.unreachable})"
        return "ok"


async def ask_slack(client: AsyncWebClient, within: float) -> TokenCheck:
    """``auth.test`` with the bot token, answered within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            await client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or exc.response.status_code)
        return TokenCheck(refused=code) if code in REFUSED else TokenCheck(unreachable=code)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return TokenCheck(unreachable=type(exc).__name__)
    return TokenCheck()


async def check_bot_token(client: AsyncWebClient) -> None:
    """``ConfigError`` if Slack refuses the bot token; a warning if Slack cannot be asked."""
    said = await ask_slack(client, START_WITHIN)
    if said.refused is not None:
        raise ConfigError(
            f"Slack refused SLACK_BOT_TOKEN ({said.refused}): copy the Bot User OAuth Token "
            "(xoxb-…) again, or reinstall the app to the workspace"
        )
    if said.unreachable is not None:
        log.warning(
            "could not reach Slack to check the bot token (%s); starting anyway, messages wait",
            said.unreachable,
        )
