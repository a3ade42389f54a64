"""The outbox on real SQLite and PostgreSQL: two processes' delivery loops on one database
(a deploy overlapping the old process) send every message once; a message the bot cannot look
for after a timeout is posted again rather than never."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests_support import engine_context, post_rows

from bot.engine.context import Context
from bot.engine.delivery import IN_FLIGHT_GRACE, Delivery
from bot.engine.outbox import queue
from bot.engine.outgoing import Kind, Outgoing, post
from bot.engine.unit import Applied, admit
from bot.errors import DeliveryError
from bot.inventory import Appliance, Inventory
from bot.messenger import Attachment, Content, Ref
from bot.presenter import TERMINAL, Message
from storage import cases, outbox

SENSORS = tuple(Appliance(name=f"ddi-{i}", driver="simulated") for i in range(4))


@dataclass
class Slack:
    """Posts land here, once each or twice; a post may time out after Slack kept it."""

    posted: list[tuple[int, str]] = field(default_factory=list)  # (outbox id, text)
    kept_but_late: int = 0
    look_refused: bool = False
    style = TERMINAL

    async def post(self, channel: str, thread_ts: str | None, content: Content, ref: Ref) -> str:
        await asyncio.sleep(0.01)  # both senders are in flight at once
        self.posted.append((ref.outbox_id, content.text))
        if self.kept_but_late:
            self.kept_but_late -= 1
            raise DeliveryError("timeout", retry=True, uncertain=True)
        return f"{len(self.posted)}.0"

    async def update(self, channel: str, ts: str, content: Content) -> None:
        pass

    async def attach(self, channel: str, thread_ts: str, file: Attachment, ref: Ref) -> None:
        pass

    async def find(
        self,
        channel: str,
        thread_ts: str | None,
        ref: Ref,
        since: datetime,
        filename: str | None = None,
    ) -> str | None:
        if self.look_refused:  # e.g. a private conversation the bot may not read
            raise DeliveryError("missing_scope", retry=False)
        return next((f"{i}.0" for i, (oid, _) in enumerate(self.posted) if oid == ref.outbox_id),
                    None)  # fmt: skip

    async def reply(self, url: str, text: str) -> None:
        pass


@pytest.fixture
async def ctx(database_url: str, tmp_path: Path) -> AsyncIterator[Context]:
    async with engine_context(
        database_url, tmp_path, Inventory(SENSORS), None, posts_per_second=1000.0, burst=100,
        retry_first=0.05, retry_max=0.2,
    ) as ctx:  # fmt: skip
        yield ctx


async def _cases_with_messages(ctx: Context, per_case: int) -> None:
    for sensor in SENSORS:
        opened = await admit(ctx, appliance=sensor.name, guided=False, user="U1", channel="C1",
                             lang="en")  # fmt: skip
        assert isinstance(opened, Applied)
        await post_rows(ctx, opened.after.case_id, [f"{sensor.name} #{n}" for n in range(per_case)])


async def _deliver(ctx: Context, *senders: Delivery) -> None:
    loops = [asyncio.create_task(s.run()) for s in senders]
    try:
        for _ in range(400):
            async with ctx.db.read() as session:
                if await outbox.depth(session) == 0:
                    return
            await asyncio.sleep(0.025)
        raise AssertionError("the outbox did not drain")
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)


async def test_two_senders_on_one_database_post_each_message_once(ctx: Context) -> None:
    await _cases_with_messages(ctx, per_case=5)
    slack = Slack()
    await _deliver(ctx, Delivery(ctx, slack, max_sleep=0.1), Delivery(ctx, slack, max_sleep=0.1))
    ids = [oid for oid, _ in slack.posted]
    assert len(ids) == len(set(ids)) == len(SENSORS) * 6  # roots and posts, once each
    for sensor in SENSORS:  # and each thread in its order
        mine = [t for _, t in slack.posted if t.startswith(f"{sensor.name} #")]
        assert mine == [f"{sensor.name} #{n}" for n in range(5)]


async def test_a_post_slack_kept_is_found_not_posted_again(ctx: Context) -> None:
    await _cases_with_messages(ctx, per_case=1)
    slack = Slack(kept_but_late=3)
    await _deliver(ctx, Delivery(ctx, slack, max_sleep=0.1))
    ids = [oid for oid, _ in slack.posted]
    assert len(ids) == len(set(ids)) == len(SENSORS) * 2


async def test_a_post_that_cannot_be_looked_for_is_posted_again(ctx: Context) -> None:
    await _cases_with_messages(ctx, per_case=1)
    slack = Slack(kept_but_late=1, look_refused=True)
    await _deliver(ctx, Delivery(ctx, slack, max_sleep=0.1))
    ids = [oid for oid, _ in slack.posted]
    assert len(ids) == len(SENSORS) * 2 + 1  # the one that timed out: twice, never lost


@dataclass
class HangingSlack(Slack):
    """Posts, but takes the first update and never answers (a process stopped in the middle
    of it); with ``hang_posts``, the first post too."""

    started: asyncio.Event = field(default_factory=asyncio.Event)
    hang_posts: bool = False

    async def post(self, channel: str, thread_ts: str | None, content: Content, ref: Ref) -> str:
        if self.hang_posts:
            await self._hang()
        return await super().post(channel, thread_ts, content, ref)

    async def update(self, channel: str, ts: str, content: Content) -> None:
        await self._hang()

    async def _hang(self) -> None:
        self.started.set()
        await asyncio.Event().wait()


async def _stopped_while_sending(ctx: Context, slack: HangingSlack) -> Delivery:
    stopping = Delivery(ctx, slack, max_sleep=0.1)
    loop = asyncio.create_task(stopping.run())
    await asyncio.wait_for(slack.started.wait(), 10)
    loop.cancel()  # stopped without draining: a call was in flight
    await asyncio.gather(loop, return_exceptions=True)
    await stopping.release()
    return stopping


async def test_a_sender_that_stops_gives_back_an_update_it_was_sending(ctx: Context) -> None:
    await _cases_with_messages(ctx, per_case=1)
    async with ctx.db.write() as session:  # the first case's root message updated, then a post
        row = await cases.lock(session, 1)
        assert row is not None
        items = [Outgoing(Kind.HEADER, Message("root, as it is now")), post(Message("after"))]
        await queue(session, case_id=1, channel="C1", reply_url=None, items=items, now=ctx.clock())
    await _stopped_while_sending(ctx, HangingSlack())
    # the next sender need not wait for the lease (a minute): the update and what follows it
    # in that thread go out now
    slack = Slack()
    await _deliver(ctx, Delivery(ctx, slack, max_sleep=0.1))
    assert "after" in [text for _, text in slack.posted]


async def test_a_post_in_flight_keeps_a_short_lease_when_its_sender_stops(ctx: Context) -> None:
    await _cases_with_messages(ctx, per_case=1)
    before = ctx.clock()
    stopping = await _stopped_while_sending(ctx, HangingSlack(hang_posts=True))
    async with ctx.db.read() as session:
        held = [r for r in await outbox.of_case(session, 1) if r.owner == stopping.owner]
    assert [(r.kind, r.uncertain) for r in held] == [("root", True)]
    # Slack may still be taking it: held a few seconds (not posted twice), not a whole lease
    lease = held[0].lease_until
    assert lease is not None and lease <= before + timedelta(seconds=IN_FLIGHT_GRACE + 2)
