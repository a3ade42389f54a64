"""Answer Slack after what a person did is recorded, so that a crash right after the answer
cannot lose it; but never later than Slack allows (3 s): past ``ACK_WITHIN`` the work goes on
in the background and Slack is answered anyway. Telling the person why it did not count comes
after the answer, once the requests being answered with it are (``Foreground``): in a burst of
fifty clicks on one button, forty-nine "already decided" replies (each a ``chat.postEphemeral``,
and a ``users.info`` for whoever's language is not known yet) would otherwise slow down the
answers still to give."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from slack_bolt.async_app import AsyncAck

from bot.engine import Foreground
from bot.engine.tasks import TaskTracker
from bot.errors import AccessSlow, DdiBotError

log = logging.getLogger(__name__)
ACK_WITHIN = 2.0  # seconds; Slack gives up on an answer after 3
# seconds a role's user groups may take to answer, within those 3 s (the read goes on after)
ACCESS_WITHIN = 1.0
T = TypeVar("T")


async def within_access_budget(check: Awaitable[T], user: str) -> T:
    """An access check that may have to read a user group from Slack, bounded so that the 3 s
    of an ack (or of a modal's trigger_id) are not used up: ``AccessSlow`` past the budget.
    The read goes on (the roster shields it), so the person's next try finds it done."""
    try:
        return await asyncio.wait_for(check, ACCESS_WITHIN)
    except TimeoutError:
        raise AccessSlow(user=user) from None


Tell = Callable[[Exception], Awaitable[None]]


async def record_then_ack(
    ack: AsyncAck,
    tasks: TaskTracker,
    work: Awaitable[object],
    tell: Tell,
    name: str,
    foreground: Foreground,
) -> None:
    """Run ``work``; acknowledge once it is done (or after ``ACK_WITHIN``); then, if it
    failed, ``tell`` the person why once ``foreground`` gives the background its turn."""
    task = tasks.spawn(_outcome(work, name), name)
    await asyncio.wait({task}, timeout=ACK_WITHIN)
    await ack()
    tasks.spawn(_tell_after(task, tell, name, foreground), f"{name}-answer")


async def _outcome(work: Awaitable[object], name: str) -> Exception | None:
    try:
        await work
    except Exception as exc:  # DdiBotError, or a surprise: the person still gets an answer
        if not isinstance(exc, DdiBotError):
            log.exception("%s failed", name)
        return exc
    return None


async def _tell_after(
    task: asyncio.Task[Exception | None], tell: Tell, name: str, foreground: Foreground
) -> None:
    failure = await task
    if failure is None:
        return
    await foreground.wait_turn()
    try:
        await tell(failure)
    except Exception:
        log.exception("%s: could not tell the person why it did not count", name)
