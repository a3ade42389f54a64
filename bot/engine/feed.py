"""The syslog detection feed as step 2 sees it: counts in the period and the sensor's usual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import t
from bot.inventory import Appliance
from storage import syslog_counts

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


async def feed_summary(
    sessions: async_sessionmaker[AsyncSession],
    appliance: Appliance,
    start: datetime,
    end: datetime,
) -> FeedSummary | None:
    """None when the sensor is not known to forward syslog (no ids, or nothing received lately)."""
    if not appliance.syslog_ids:
        return None
    async with sessions() as session:
        last = await syslog_counts.last_seen(session, appliance.name)
        if last is None or end - last > FORWARDS_WITHIN:
            return None
        first = await syslog_counts.first_seen(session, appliance.name)
        count = await syslog_counts.total(session, appliance.name, start, end)
        history_start = max(end - timedelta(days=USUAL_DAYS), first or end)
        days = (end - history_start) / timedelta(days=1)
        per_day = None
        if days >= 1:
            total = await syslog_counts.total(session, appliance.name, history_start, end)
            per_day = total / days
    return FeedSummary(count, start, end, last, per_day, max(1, round(days)))


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
