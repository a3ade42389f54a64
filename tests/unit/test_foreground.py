"""Background work lets Slack requests being answered go first (``Foreground``), and every
request through the Bolt app counts as being answered until it is acknowledged."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from slack_bolt.async_app import AsyncAck
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine import Foreground
from bot.engine.tasks import TaskTracker
from bot.errors import CaseNotFound
from handlers.ack import record_then_ack
from handlers.app import AnsweringApp

SECRET = "test-secret"


async def test_background_work_waits_while_a_request_is_answered() -> None:
    foreground = Foreground()
    with foreground.answering():
        waiting = asyncio.create_task(foreground.wait_turn())
        await asyncio.sleep(0.1)
        assert not waiting.done()
    await asyncio.wait_for(waiting, timeout=5)


async def test_nothing_answered_means_no_wait() -> None:
    foreground = Foreground()
    await asyncio.wait_for(foreground.wait_turn(), timeout=1)  # returns at once
    assert foreground.busy == 0


async def test_background_work_is_never_starved() -> None:
    foreground = Foreground()
    foreground.MOST = 0.2  # (instance attribute: the class's default stays)
    with foreground.answering():
        await asyncio.wait_for(foreground.wait_turn(), timeout=5)  # busy all along
        assert foreground.busy == 1


async def test_answers_in_a_row_keep_the_background_waiting_until_they_end() -> None:
    foreground = Foreground()
    with foreground.answering():
        waiting = asyncio.create_task(foreground.wait_turn())
        with foreground.answering():
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.05)
        assert not waiting.done()  # the first one is still being answered
    await asyncio.wait_for(waiting, timeout=5)


def _signed(body: str) -> dict[str, str]:
    timestamp = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": timestamp,
        "x-slack-signature": signature,
    }


async def test_a_request_counts_as_answered_until_its_ack() -> None:
    async def authorize(**_: Any) -> AuthorizeResult:  # no auth.test: nothing to reach
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-test")

    foreground = Foreground()
    app = AnsweringApp(
        foreground,
        client=AsyncWebClient(base_url="http://127.0.0.1:1/api/"),
        authorize=authorize,
        signing_secret=SECRET,
        process_before_response=False,
    )
    seen: list[int] = []
    after_ack = asyncio.Event()

    @app.command("/ddi-check")
    async def check(ack: AsyncAck, command: dict[str, Any]) -> None:
        seen.append(foreground.busy)
        await ack(text="ok")
        after_ack.set()

    body = "command=%2Fddi-check&text=help&user_id=U1&channel_id=C1&team_id=T1&token=x"
    response = await app.async_dispatch(AsyncBoltRequest(body=body, headers=_signed(body)))
    assert (response.status, response.body) == (200, "ok")
    assert seen == [1]
    assert foreground.busy == 0
    await asyncio.wait_for(after_ack.wait(), timeout=5)


async def test_why_a_click_did_not_count_is_told_after_the_other_answers() -> None:
    """``record_then_ack`` answers Slack at once, but telling the person why their click was
    refused waits while other requests are being answered, then happens."""
    foreground = Foreground()
    foreground.MOST = 60.0  # a slow machine's stall must not end the wait during the check
    tasks = TaskTracker()
    acked = asyncio.Event()
    told: list[str] = []

    class Ack:
        async def __call__(self, **_: Any) -> None:
            acked.set()

    async def refused() -> None:
        raise CaseNotFound("7", case_id="7")

    async def tell(exc: Exception) -> None:
        told.append(type(exc).__name__)

    with foreground.answering():  # another request is still being answered
        await record_then_ack(Ack(), tasks, refused(), tell, "decision-7", foreground)
        assert acked.is_set()
        await asyncio.sleep(0.2)
        assert told == []  # not while the other answer is under way
    await asyncio.wait_for(tasks.drain(), timeout=5)
    assert told == ["CaseNotFound"]
