"""The syslog detection feed as step 2 sees it: counts in the period and the sensor's usual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import t
from bot.inventory import Appliance
from storage import syslog_counts, syslog_receivers

FORWARDS_WITHIN = timedelta(days=30)  # seen in the feed this recently: the sensor forwards
USUAL_DAYS = 14  # the history "normally N per day" is taken over


@dataclass(frozen=True)
class FeedSummary:
    count: int
    start: datetime
    end: datetime
    last_seen: datetime
    per_day: float | None  # None until the feed has a whole day of history
    days: int  # days the usual is measured over


async def usual_per_day(
    sessions: async_sessionmaker[AsyncSession], appliance: Appliance, end: datetime
) -> tuple[float, int] | None:
    """(detections per day, days measured) over up to ``USUAL_DAYS`` before the sensor's last
    syslog detection, so that a sensor that went silent is judged by how it was before; None
    without a day of history, or when nothing came from it for ``FORWARDS_WITHIN``."""
    if not appliance.syslog_ids:
        return None
    async with sessions() as session:
        first = await syslog_counts.first_seen(session, appliance.name)
        last = await syslog_counts.last_seen(session, appliance.name)
        if first is None or last is None or end - last > FORWARDS_WITHIN:
            return None
        history_end = min(end, last + timedelta(minutes=1))
        history_start = max(history_end - timedelta(days=USUAL_DAYS), first)
        days = (history_end - history_start) / timedelta(days=1)
        if days < 1:
            return None
        total = await syslog_counts.total(session, appliance.name, history_start, history_end)
    return total / days, max(1, round(days))


async def feed_summary(
    sessions: async_sessionmaker[AsyncSession],
    appliance: Appliance,
    start: datetime,
    end: datetime,
) -> FeedSummary | None:
    """Step 2 from the feed, or None when the feed cannot say: the sensor has no syslog ids,
    or nothing came from it lately. Zero detections is only an answer when some receiver (of
    any replica) listened through the whole period; detections found always are."""
    if not appliance.syslog_ids:
        return None
    async with sessions() as session:
        last = await syslog_counts.last_seen(session, appliance.name)
        if last is None or end - last > FORWARDS_WITHIN:
            return None
        count = await syslog_counts.total(session, appliance.name, start, end)
        if count == 0 and not await syslog_receivers.listened_through(session, start, end):
            return None  # silence nobody listened to is not an answer
    usual = await usual_per_day(sessions, appliance, end)
    per_day, days = usual if usual is not None else (None, 0)
    return FeedSummary(count, start, end, last, per_day, days)


def feed_text(lang: str, feed: FeedSummary) -> str:
    def when(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC")

    key = "feed.found" if feed.count else "feed.none"
    text = t(
        lang,
        key,
        start=when(feed.start),
        end=when(feed.end),
        count=feed.count,
        last=when(feed.last_seen),
    )
    if feed.per_day is not None:
        text += "\n" + t(lang, "feed.usual", per_day=f"{feed.per_day:.1f}", days=feed.days)
    return text
