"""Delivers the outbox: in order per stream (a case's thread), paced per channel, retried on
rate limits, server errors and timeouts with backoff and jitter, resumed after a restart.

A message that may have been posted after all (a timeout, a 5xx) is looked for before it is
posted again, so a slow Slack neither duplicates a message nor abandons a case. A message that
keeps failing is reported once (log and metric) and kept trying, never silently dropped; one
that can never be delivered (the channel refuses the bot) fails, and a case whose root message
fails is closed as abandoned, telling the person who asked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot import metrics
from bot.engine.context import Context
from bot.engine.outgoing import Kind
from bot.engine.pacing import LocalPace, backoff, real_now
from bot.engine.sweep import alert_body
from bot.engine.unit import Refusal, apply
from bot.errors import DeliveryError
from bot.logs import about_case
from bot.messenger import Attachment, Messenger, Ref, from_body
from bot.runbook.messages import ThreadFailed
from storage import alerts, cases, channel_pace, outbox, timeline
from storage.models import OutboxRow
from storage.timeline import EventKind

log = logging.getLogger(__name__)


def _whose(row: OutboxRow) -> str:
    """What a row is about, for the log."""
    if row.alert_id is not None:
        return f"alert {row.alert_id}"
    return f"case {row.case_id}"


COALESCE = 0.05  # seconds the loop lets a burst of new rows gather before it looks
# seconds a post cut short by a stop stays held: Slack may still take it (the request was sent);
# then another process looks for it before posting it again
IN_FLIGHT_GRACE = 5.0


@dataclass(frozen=True)
class Sent:
    """A row that went out, not yet recorded as sent."""

    row: OutboxRow
    ts: str | None
    found: bool  # it had gone out on an earlier attempt after all


class Delivery:
    def __init__(self, ctx: Context, messenger: Messenger, max_sleep: float = 5.0) -> None:
        self.ctx = ctx
        self.messenger = messenger
        self.max_sleep = max_sleep
        self.workers: dict[str, asyncio.Task[None]] = {}
        self.poked: set[str] = set()
        self.stopping = False
        self.owner = uuid.uuid4().hex  # this process, as the sender of the rows it claims
        # one process (SQLite) paces on its own; replicas share each channel's pace in the
        # database, taken with the claim of the message
        self.local = LocalPace() if ctx.db.sqlite else None

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=1.0 / self.ctx.config.posts_per_second)

    async def pause(self, channel: str, seconds: float) -> None:
        """Slack said to wait: no process posts in the channel meanwhile."""
        if self.local is not None:
            self.local.pause(channel, real_now(), seconds, self.interval, self.ctx.config.burst)
            return
        async with self.ctx.db.write() as session:
            await channel_pace.pause(
                session, channel, real_now(), seconds, self.interval, self.ctx.config.burst
            )

    async def run(self) -> None:
        """Forever: start a worker for every channel with something to deliver."""
        ctx = self.ctx
        try:
            while True:
                await asyncio.sleep(COALESCE)  # many rows written together: one look
                ctx.wake.outbox.clear()
                nxt: datetime | None = None
                channels: list[str] = []
                started = False
                try:
                    async with ctx.db.read() as session:
                        channels = await outbox.channels_due(session, ctx.clock())
                        nxt = await outbox.next_due(session)
                    for channel in channels:
                        started |= self._ensure_worker(channel)
                except Exception:
                    log.exception("outbox: database error; retrying")
                delay = self.max_sleep
                if nxt is not None and (started or not channels):
                    # what is due now has a worker on it (which wakes this loop when it is
                    # done): only a row due later sets the time to look again
                    delay = min(delay, max(0.05, (nxt - ctx.clock()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await ctx.wake.outbox.wait()
        finally:
            for task in self.workers.values():
                task.cancel()
            await asyncio.gather(*self.workers.values(), return_exceptions=True)

    async def finish(self, grace: float) -> None:
        """Stop taking rows; let the ones being delivered finish (up to ``grace`` seconds), so
        that a message Slack took is known to be sent."""
        self.stopping = True
        running = [task for task in self.workers.values() if not task.done()]
        if running:
            await asyncio.wait(running, timeout=grace)

    async def release(self) -> None:
        """Stopped: the rows this process still holds go back, for another replica (or this
        one's next start), rather than after their leases: at once, or a post in flight after
        ``IN_FLIGHT_GRACE``."""
        grace_until = self.ctx.clock() + timedelta(seconds=IN_FLIGHT_GRACE)
        try:
            async with self.ctx.db.write() as session:
                released = await outbox.release(session, self.owner, grace_until)
        except Exception as exc:  # the database is gone: the leases run out by themselves
            log.warning("outbox: could not give back the messages being sent: %s", exc)
            return
        if released:
            log.info("outbox: gave back %d message(s) being sent", released)

    def _ensure_worker(self, channel: str) -> bool:
        """A worker for the channel; True if one had to be started."""
        if self.stopping:
            return False
        task = self.workers.get(channel)
        if task is not None and not task.done():
            self.poked.add(channel)  # it may have looked just before the new row: again
            return False
        task = asyncio.create_task(self._channel(channel), name=f"out-{channel}")
        task.add_done_callback(lambda _task: self.ctx.wake.outbox.set())
        self.workers[channel] = task
        return True

    async def _channel(self, channel: str) -> None:
        """Deliver the channel's rows one by one, paced, until none is due. That a row went
        out is recorded in the transaction that takes the next one (one write, not two)."""
        sent: Sent | None = None
        try:
            while not self.stopping:
                try:
                    await self.ctx.foreground.wait_turn()
                    taken = await self._take(channel, sent)
                    sent = None
                    if isinstance(taken, float):  # the channel's next slot is not yet due
                        await asyncio.sleep(taken)
                        continue
                    if taken is None:
                        if channel in self.poked:
                            self.poked.discard(channel)
                            continue
                        return
                    row, thread_ts, appliance = taken
                    with about_case(row.case_id, appliance):
                        sent = await self.deliver(row, thread_ts)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("outbox: delivery in %s failed; retrying", channel)
                    await asyncio.sleep(1.0)
        finally:
            if sent is not None:  # stopping: what went out is known to have gone out
                await asyncio.shield(self._record(sent))

    async def _take(self, channel: str, sent: Sent | None) -> outbox.Taken | float | None:
        """Record ``sent``; then the channel's next row, claimed by this process (its lease
        covers the attempt), with the channel's next slot; or the seconds until that slot
        (a row is held, and counts as maybe posted should this process die, only while
        Slack is asked)."""
        now = self.ctx.clock()
        lease = now + timedelta(seconds=self.ctx.config.delivery_lease)
        async with self.ctx.db.write() as session:
            if sent is not None:
                await self._mark(session, sent, now)
            return await outbox.take(
                session, channel, owner=self.owner, now=now, until=lease, pace=self._reserve
            )

    async def _reserve(self, session: AsyncSession, channel: str) -> float:
        """The channel's next slot, in real time (Slack's limits are): kept by this process
        when it is the only one (SQLite), else in the database, shared by every replica."""
        burst = self.ctx.config.burst
        if self.local is not None:
            return self.local.reserve(channel, real_now(), self.interval, burst)
        return await channel_pace.reserve(session, channel, real_now(), self.interval, burst)

    async def _record(self, sent: Sent) -> None:
        async with self.ctx.db.write() as session:
            await self._mark(session, sent, self.ctx.clock())

    async def _mark(self, session: AsyncSession, sent: Sent, now: datetime) -> None:
        row = sent.row
        await outbox.mark_sent(session, row.id, sent.ts, now)
        if row.kind == Kind.ROOT and row.case_id is not None and sent.ts is not None:
            await cases.set_thread(session, row.case_id, row.channel, sent.ts)
            data = {"channel": row.channel, "ts": sent.ts}
            await timeline.add_event(session, row.case_id, EventKind.THREAD_POSTED, data, now)
        if row.kind == Kind.ROOT and row.alert_id is not None and sent.ts is not None:
            await alerts.set_ts(session, row.alert_id, sent.ts)
        metrics.DELIVERIES.labels(row.kind, "found" if sent.found else "sent").inc()

    async def deliver(self, row: OutboxRow, thread_ts: str | None) -> Sent | None:
        """One attempt at one claimed row: what went out (to be recorded), or None when it
        did not (recorded here: to retry, or failed)."""
        ref = Ref(row.id, row.case_id)
        try:
            found, ts = await self._send(row, thread_ts, ref)
        except DeliveryError as exc:
            await self._failed(row, exc)
            return None
        except Exception as exc:  # a surprise in the messenger: maybe posted, retry with care
            log.exception("outbox: row %s (%s) failed unexpectedly", row.id, row.kind)
            await self._failed(row, DeliveryError(type(exc).__name__, retry=True, uncertain=True))
            return None
        return Sent(row, ts, found)

    async def _send(
        self, row: OutboxRow, thread_ts: str | None, ref: Ref
    ) -> tuple[bool, str | None]:
        """(found after all, ts): the call this row stands for."""
        messenger, body = self.messenger, row.body
        if row.kind == Kind.REPLY:
            await messenger.reply(str(body["url"]), str(body["text"]))
            return False, None
        if row.kind != Kind.ROOT and thread_ts is None:
            raise DeliveryError("no_thread", retry=False)
        if row.uncertain and row.kind in (Kind.ROOT, Kind.POST, Kind.ATTACH):
            ts = await self._look_for(row, thread_ts, ref)
            if ts is not None:
                return True, ts
        match Kind(row.kind):
            case Kind.ROOT:
                return False, await messenger.post(row.channel, None, from_body(body), ref)
            case Kind.POST:
                return False, await messenger.post(row.channel, thread_ts, from_body(body), ref)
            case Kind.HEADER:
                assert thread_ts is not None
                await messenger.update(row.channel, thread_ts, from_body(body))
            case Kind.UPDATE:
                await messenger.update(row.channel, str(row.target_ts), from_body(body))
            case Kind.ATTACH:
                assert thread_ts is not None
                file = Attachment(str(body["filename"]), row.blob or b"", str(body["title"]))
                await messenger.attach(row.channel, thread_ts, file, ref)
        return False, None

    async def _look_for(self, row: OutboxRow, thread_ts: str | None, ref: Ref) -> str | None:
        """The message a previous attempt may have posted after all. If Slack will not let the
        bot look (no history scope in that conversation), it is posted again: a duplicate is
        better than a message nobody sees."""
        since = row.created_at - timedelta(minutes=1)
        name = str(row.body["filename"]) if row.kind == Kind.ATTACH else None
        try:
            return await self.messenger.find(row.channel, thread_ts, ref, since, name)
        except DeliveryError as exc:
            if exc.retry:
                raise
            log.warning(
                "outbox: cannot look for %s %s (%s); posting it again", row.kind, row.id, exc.code
            )
            return None

    async def _failed(self, row: OutboxRow, exc: DeliveryError) -> None:
        ctx = self.ctx
        now = ctx.clock()
        if not exc.retry:
            log.error(
                "outbox: %s for %s in %s refused by Slack: %s",
                row.kind, _whose(row), row.channel, exc.code,
            )  # fmt: skip
            metrics.DELIVERIES.labels(row.kind, "failed").inc()
            async with ctx.db.write() as session:
                await outbox.mark_failed(session, row.id, exc.code, now)
                if row.case_id is not None:
                    data = {"outbox_id": row.id, "kind": row.kind, "error": exc.code}
                    await timeline.add_event(
                        session, row.case_id, EventKind.DELIVERY_FAILED, data, now
                    )
                if row.kind == Kind.ROOT:
                    await outbox.fail_stream(session, row.stream, "no_thread", now)
                if row.kind == Kind.ROOT and row.alert_id is not None:
                    await self._undelivered(session, row, exc.code, now)
            if row.kind == Kind.ROOT and row.case_id is not None:
                await self._abandon(row.case_id, exc.code)
            self.ctx.wake.outbox.set()
            return
        metrics.DELIVERIES.labels(row.kind, "retry").inc()
        wait = backoff(row.attempts + 1, ctx.config.retry_first, ctx.config.retry_max)
        if exc.after is not None:
            await self.pause(row.channel, exc.after)
            wait = max(wait, exc.after)
        stuck = now - row.created_at > timedelta(seconds=ctx.config.stuck_after)
        if stuck and not row.reported:
            metrics.STUCK.inc()
            log.error(
                "outbox: a %s for case %s has failed for %s (last: %s); still trying",
                row.kind, row.case_id, now - row.created_at, exc.code,
            )  # fmt: skip
        async with ctx.db.write() as session:
            await outbox.mark_retry(
                session,
                row,
                next_at=now + timedelta(seconds=wait),
                error=exc.code,
                uncertain=exc.uncertain,
                reported=stuck,
            )

    async def _undelivered(
        self, session: AsyncSession, row: OutboxRow, code: str, now: datetime
    ) -> None:
        """An alert's message was refused (the bot is not in that channel): it is posted, as
        the alert is now, in ``DDI_BOT_ALERT_CHANNEL`` instead; without one, the alert is
        closed so that the next sweep raises it again (an open alert without a message would
        hide its condition). In the transaction that failed the refused message: a sweep
        never sees the alert between the two."""
        assert row.alert_id is not None
        fallback = self.ctx.config.alert_channel
        alert = await alerts.lock(session, row.alert_id)
        if alert is None or alert.open_key is None:
            return
        if fallback and alert.channel != fallback:
            refused_in = alert.channel
            await alerts.set_channel(session, alert.id, fallback)
            alert = await alerts.get(session, alert.id) or alert
            await outbox.add(
                session, stream=row.stream, channel=fallback, kind=Kind.ROOT.value,
                body=alert_body(self.ctx, alert), now=now, key=f"alert:{alert.id}:{fallback}",
                alert_id=alert.id,
            )  # fmt: skip
            log.error(
                "outbox: alert %s could not be posted in %s (%s); posting it in %s "
                "(DDI_BOT_ALERT_CHANNEL)", alert.id, refused_in, code, fallback,
            )  # fmt: skip
            return
        await alerts.close(session, alert.id, now, {**alert.detail, "closed": "undelivered"})
        log.error("outbox: alert %s (%s of %s) could not be posted in %s (%s): invite the bot "
                  "there or set DDI_BOT_ALERT_CHANNEL; the next sweep raises it again",
                  alert.id, alert.condition, alert.appliance, alert.channel, code)  # fmt: skip

    async def _abandon(self, case_id: int, code: str) -> None:
        """The case's thread will never exist: close it, and tell the person who asked."""
        for _ in range(10):  # the case may be moving on concurrently: try its new version
            async with self.ctx.db.read() as session:
                case = await cases.get_case(session, case_id)
            if case is None or case.open_key is None:
                return
            result = await apply(self.ctx, case_id, case.version, ThreadFailed(code))
            if getattr(result, "reason", None) != Refusal.STALE:
                return
