"""The outbox: messages written by the transaction that decided them, delivered afterwards.

Rows of one stream (a case's thread) are delivered in id order: a row waits while an earlier
row of its stream is still pending. Functions take a session and never commit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.dialect import PerDialect, table
from storage.models import AlertRow, CaseRow, OutboxRow

PENDING, SENT, SUPERSEDED, FAILED = "pending", "sent", "superseded", "failed"
# The statements of the delivery loop are built once, with bound parameters: they run for
# every message, and building one costs more than a round trip to SQLite.
# (Core statements of the table where they write: no ORM bookkeeping per execution)
_OUTBOX = table(OutboxRow)
_ADD = PerDialect(
    lambda insert: (
        insert(_OUTBOX)
        .on_conflict_do_nothing(index_elements=[_OUTBOX.c.key])
        .returning(_OUTBOX.c.id)
    )
)

_ADD_MANY = insert(_OUTBOX)  # Core executemany: no ORM bookkeeping per row


async def add(
    session: AsyncSession,
    *,
    stream: str,
    channel: str,
    kind: str,
    body: dict[str, Any],
    now: datetime,
    case_id: int | None = None,
    blob: bytes | None = None,
    key: str | None = None,
    target_ts: str | None = None,
    alert_id: int | None = None,
) -> int | None:
    """Queue a message; None if ``key`` was queued before (a once-only message)."""
    values = {
        "case_id": case_id,
        "stream": stream,
        "channel": channel,
        "kind": kind,
        "body": body,
        "blob": blob,
        "key": key,
        "target_ts": target_ts,
        "alert_id": alert_id,
        "status": PENDING,
        "attempts": 0,
        "next_at": now,
        "uncertain": False,
        "created_at": now,
        "reported": False,
    }
    result = await session.execute(_ADD(session), values)
    found = result.scalar_one_or_none()
    return None if found is None else int(found)


async def add_many(session: AsyncSession, rows: list[dict[str, Any]], now: datetime) -> None:
    """Queue several messages that have no once-only key, in one statement."""
    if rows:
        await session.execute(
            _ADD_MANY,
            [
                {
                    "case_id": None, "blob": None, "key": None, "target_ts": None,
                    "alert_id": None, **row,
                    "status": PENDING, "attempts": 0, "next_at": now, "uncertain": False,
                    "created_at": now, "reported": False,
                }
                for row in rows
            ],
        )  # fmt: skip


async def get(session: AsyncSession, row_id: int) -> OutboxRow | None:
    return await session.get(OutboxRow, row_id, populate_existing=True)


async def by_key(session: AsyncSession, key: str) -> OutboxRow | None:
    result = await session.execute(select(OutboxRow).where(OutboxRow.key == key))
    return result.scalar_one_or_none()


_EARLIER = aliased(OutboxRow)
# no earlier row of the same stream is still pending (built once: it is in every look-up)
FIRST_OF_STREAM = ~(
    select(_EARLIER.id)
    .where(
        _EARLIER.stream == OutboxRow.stream,
        _EARLIER.status == PENDING,
        _EARLIER.id < OutboxRow.id,
    )
    .exists()
)


def _free(now: Any, lease: Any = OutboxRow.lease_until) -> Any:
    """Not being sent by a process right now (or that process's lease ran out); ``lease``:
    the ORM attribute, or the table's column in a Core statement."""
    return or_(lease.is_(None), lease < now)


_HEAD = (
    select(
        OutboxRow,
        func.coalesce(CaseRow.thread_ts, AlertRow.ts),
        func.coalesce(CaseRow.appliance, AlertRow.appliance),
    )
    .outerjoin(CaseRow, CaseRow.id == OutboxRow.case_id)
    .outerjoin(AlertRow, AlertRow.id == OutboxRow.alert_id)
    .where(
        OutboxRow.status == PENDING,
        OutboxRow.channel == bindparam("of_channel"),
        OutboxRow.next_at <= bindparam("at"),
        _free(bindparam("at")),
        FIRST_OF_STREAM,
    )
    .order_by(OutboxRow.id)
    .limit(1)
    .with_for_update(skip_locked=True, of=OutboxRow)
)


# the row; its thread (a case's), or the message it updates (an alert's); its appliance
Taken = tuple[OutboxRow, str | None, str | None]


async def head(session: AsyncSession, channel: str, now: datetime) -> Taken | None:
    """The oldest due row of ``channel`` that no earlier pending row of its stream holds up,
    and that no process is sending; with its case's thread (None before the root is out), or
    its alert's message, and appliance. On PostgreSQL the row is locked (a row another
    transaction locked is skipped)."""
    result = await session.execute(_HEAD, {"of_channel": channel, "at": now})
    found = result.first()
    return None if found is None else (found[0], found[1], found[2])


# takes the channel's next slot for a message about to be claimed: 0.0 when it may go now,
# else the seconds to wait (nothing taken)
Reserve = Callable[[AsyncSession, str], Awaitable[float]]


async def take(
    session: AsyncSession,
    channel: str,
    *,
    owner: str,
    now: datetime,
    until: datetime,
    pace: Reserve | None = None,
) -> Taken | float | None:
    """Claim the channel's next row for ``owner`` until ``until`` (see ``head``), skipping
    root updates that a newer one replaces; None when there is none to send now. With
    ``pace``, a message to the channel (not a reply to a person) also takes the channel's
    next slot: the seconds to wait if there is none yet (nothing is claimed meanwhile)."""
    while (found := await head(session, channel, now)) is not None:
        row = found[0]
        if row.kind == "header" and await newer_pending(session, row):
            await mark_superseded(session, row.id, now)
            continue
        if pace is not None and row.kind != "reply":
            wait = await pace(session, channel)
            if wait > 0:
                return wait
        posting = row.kind in ("root", "post", "attach")
        if await claim(session, row, owner=owner, now=now, until=until, may_post=posting):
            return found
        return None  # another process took it between the look and the claim
    return None


async def channels_due(session: AsyncSession, now: datetime) -> list[str]:
    """Channels with a row that can be delivered now."""
    result = await session.execute(_CHANNELS_DUE, {"at": now})
    return [str(channel) for channel in result.scalars()]


_CHANNELS_DUE = (
    select(OutboxRow.channel)
    .where(
        OutboxRow.status == PENDING,
        OutboxRow.next_at <= bindparam("at"),
        _free(bindparam("at")),
        FIRST_OF_STREAM,
    )
    .distinct()
)
_NEXT_DUE = select(func.min(OutboxRow.next_at)).where(OutboxRow.status == PENDING, FIRST_OF_STREAM)


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next row can be delivered (rows held up by their stream do not count)."""
    result = await session.execute(_NEXT_DUE)
    return result.scalar_one_or_none()


async def depth(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(OutboxRow).where(OutboxRow.status == PENDING)
    )
    return int(result.scalar_one())


async def pending_in(session: AsyncSession, stream: str) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(OutboxRow)
        .where(OutboxRow.stream == stream, OutboxRow.status == PENDING)
    )
    return int(result.scalar_one())


_NEWER = (
    select(OutboxRow.id)
    .where(
        OutboxRow.stream == bindparam("of_stream"),
        OutboxRow.kind == bindparam("of_kind"),
        OutboxRow.status == PENDING,
        OutboxRow.id > bindparam("row_id"),
    )
    .limit(1)
)


async def newer_pending(session: AsyncSession, row: OutboxRow) -> bool:
    """Whether a later row of the same kind waits in the same stream (it replaces this one)."""
    params = {"of_stream": row.stream, "of_kind": row.kind, "row_id": row.id}
    result = await session.execute(_NEWER, params)
    return result.scalar_one_or_none() is not None


async def _set(session: AsyncSession, row_id: int, **values: Any) -> None:
    await session.execute(update(_OUTBOX).where(_OUTBOX.c.id == row_id).values(**values))


async def claim(
    session: AsyncSession,
    row: OutboxRow,
    *,
    owner: str,
    now: datetime,
    until: datetime,
    may_post: bool,
) -> bool:
    """Take the row for sending until ``until``; False if another process has it. With
    ``may_post``, it counts as possibly posted from now on: if this process dies before it
    hears back, the message is looked for before it is posted again."""
    params = {"row_id": row.id, "at": now, "new_owner": owner, "new_lease": until}
    result = await session.execute(_CLAIM, {**params, "maybe_posted": may_post or row.uncertain})
    return int(getattr(result, "rowcount", 0)) == 1


_CLAIM = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id == bindparam("row_id"),
        _OUTBOX.c.status == PENDING,
        _free(bindparam("at"), _OUTBOX.c.lease_until),
    )
    .values(
        owner=bindparam("new_owner"),
        lease_until=bindparam("new_lease"),
        uncertain=bindparam("maybe_posted"),
    )
)
_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(status=SENT, ts=bindparam("new_ts"), sent_at=bindparam("at"), uncertain=False,
            lease_until=None)
)  # fmt: skip


async def mark_sent(session: AsyncSession, row_id: int, ts: str | None, now: datetime) -> None:
    await session.execute(_SENT, {"row_id": row_id, "new_ts": ts, "at": now})


async def mark_superseded(session: AsyncSession, row_id: int, now: datetime) -> None:
    await _set(session, row_id, status=SUPERSEDED, sent_at=now)


async def mark_failed(session: AsyncSession, row_id: int, error: str, now: datetime) -> None:
    await _set(session, row_id, status=FAILED, error=error, sent_at=now, lease_until=None)


async def mark_retry(
    session: AsyncSession,
    row: OutboxRow,
    *,
    next_at: datetime,
    error: str,
    uncertain: bool,
    reported: bool,
) -> None:
    await _set(
        session,
        row.id,
        attempts=row.attempts + 1,
        next_at=next_at,
        error=error,
        uncertain=uncertain or row.uncertain,  # as it was before the attempt: maybe posted
        reported=reported or row.reported,
        lease_until=None,
    )


async def refresh_header(session: AsyncSession, stream: str, body: dict[str, Any]) -> bool:
    """Give the root update still waiting in ``stream`` (not being sent) the newest content;
    False if there is none, and a new row is needed."""
    result = await session.execute(_REFRESH, {"of_stream": stream, "new_body": body})
    return int(getattr(result, "rowcount", 0)) > 0


_REFRESH = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.stream == bindparam("of_stream"),
        _OUTBOX.c.kind == "header",
        _OUTBOX.c.status == PENDING,
        _OUTBOX.c.lease_until.is_(None),
    )
    .values(body=bindparam("new_body"))
)


async def release(session: AsyncSession, owner: str, grace_until: datetime) -> int:
    """Give back the rows ``owner`` holds (it stops): another process need not wait for their
    leases to run out. Those that cannot have been posted (updates, replies) go at once; a
    post in flight keeps a short lease, until ``grace_until``: Slack may still be taking it,
    and one looked for too early would be posted twice. How many."""
    held = (
        _OUTBOX.c.owner == owner,
        _OUTBOX.c.status == PENDING,
        _OUTBOX.c.lease_until.is_not(None),
    )
    now_free = await session.execute(
        update(_OUTBOX).where(*held, _OUTBOX.c.uncertain.is_(False)).values(lease_until=None)
    )
    soon_free = await session.execute(
        update(_OUTBOX)
        .where(*held, _OUTBOX.c.uncertain.is_(True), _OUTBOX.c.lease_until > grace_until)
        .values(lease_until=grace_until)
    )
    return int(getattr(now_free, "rowcount", 0)) + int(getattr(soon_free, "rowcount", 0))


async def kick(session: AsyncSession, row_id: int, now: datetime) -> None:
    """Deliver a waiting row now rather than after its backoff."""
    await _set(session, row_id, next_at=now)


async def fail_stream(session: AsyncSession, stream: str, error: str, now: datetime) -> int:
    """Every pending row of ``stream`` fails (its thread will never exist); how many."""
    result = await session.execute(
        update(OutboxRow)
        .where(OutboxRow.stream == stream, OutboxRow.status == PENDING)
        .values(status=FAILED, error=error, sent_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


async def root_of(session: AsyncSession, case_id: int) -> OutboxRow | None:
    result = await session.execute(
        select(OutboxRow)
        .where(OutboxRow.case_id == case_id, OutboxRow.kind == "root")
        .order_by(OutboxRow.id)
        .limit(1)
    )
    return result.scalars().first()


async def of_case(session: AsyncSession, case_id: int) -> Sequence[OutboxRow]:
    result = await session.execute(
        select(OutboxRow).where(OutboxRow.case_id == case_id).order_by(OutboxRow.id)
    )
    return result.scalars().all()
