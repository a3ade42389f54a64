"""What ``serve`` checks with Slack before it starts: that the tokens are where they belong
and that Slack accepts the bot token (``auth.test``). Each problem is one line that says what to
fix; Slack being unreachable is not one (the outbox waits for it)."""

from __future__ import annotations

import logging

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ConfigError

log = logging.getLogger(__name__)
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


async def check_bot_token(client: AsyncWebClient) -> str | None:
    """Slack's answer to ``auth.test``: the bot's user id; ``ConfigError`` if the token is
    refused, None (and a warning) if Slack cannot be asked now."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        code = str(exc.response.get("error") or exc.response.status_code)
        if code in REFUSED:
            raise ConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token "
                "(xoxb-…) again, or reinstall the app to the workspace"
            ) from None
        log.warning("could not check the bot token with Slack (%s); starting anyway", code)
        return None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning(
            "could not reach Slack to check the bot token (%s); starting anyway, messages wait",
            type(exc).__name__,
        )
        return None
    user = response.get("user_id")
    return str(user) if user else None
