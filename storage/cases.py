"""Cases and the decisions taken on them. Functions take a session and never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import PerDialect, insert, insert_once, table
from storage.models import ApplianceRow, CaseRow, DecisionRow


async def upsert_appliance(
    session: AsyncSession, name: str, driver: str, site: str | None, now: datetime
) -> None:
    """Insert or update in one statement, so replicas starting together do not collide."""
    values = {"name": name, "driver": driver, "site": site, "updated_at": now}
    statement = insert(session, ApplianceRow).values(**values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ApplianceRow.name],
            set_={"driver": driver, "site": site, "updated_at": now},
        )
    )


async def create_case(
    session: AsyncSession,
    *,
    appliance: str,
    requested_by: str,
    lang: str,
    phase: str,
    state: dict[str, Any],
    channel: str | None,
    now: datetime,
    reply_url: str | None = None,
) -> CaseRow | None:
    """Insert an open case; None if the appliance already has one (the unique open key)."""
    values = {
        "appliance": appliance,
        "open_key": appliance,
        "phase": phase,
        "state": state,
        "version": 1,
        "lang": lang,
        "requested_by": requested_by,
        "channel": channel,
        "opened_at": now,
        "reply_url": reply_url,
    }
    case_id = await insert_once(session, CaseRow, values, [CaseRow.open_key], CaseRow.id)
    return None if case_id is None else await get_case(session, int(case_id))


# one statement built once, executed for many rows (SQLAlchemy's "insertmanyvalues" batches
# them, RETURNING included): a multi-row VALUES built per burst cost more to compile than to run
_CREATE = PerDialect(
    lambda insert: (
        insert(table(CaseRow))
        .on_conflict_do_nothing(index_elements=[CaseRow.open_key])
        .returning(CaseRow.id, CaseRow.appliance)
    )
)


async def create_cases(session: AsyncSession, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Insert open cases in one statement (each row as for ``create_case``, distinct
    appliances); appliance -> new case id, for those that had no open case."""
    if not rows:
        return {}
    values = [{**row, "open_key": row["appliance"], "version": 1} for row in rows]
    result = await session.execute(_CREATE(session), values)
    return {str(appliance): int(case_id) for case_id, appliance in result.all()}


async def open_case_for(session: AsyncSession, appliance: str) -> CaseRow | None:
    result = await session.execute(select(CaseRow).where(CaseRow.open_key == appliance))
    return result.scalar_one_or_none()


async def by_thread(session: AsyncSession, channel: str, thread_ts: str) -> CaseRow | None:
    """The case whose thread this is (its root message's channel and ts)."""
    result = await session.execute(
        select(CaseRow)
        .where(CaseRow.channel == channel, CaseRow.thread_ts == thread_ts)
        .order_by(CaseRow.id.desc())
        .limit(1)
    )
    return result.scalars().first()


async def count_open(session: AsyncSession) -> int:
    result = await session.execute(
        select(func.count()).select_from(CaseRow).where(CaseRow.open_key.is_not(None))
    )
    return int(result.scalar_one())


async def open_cases(session: AsyncSession) -> Sequence[CaseRow]:
    result = await session.execute(select(CaseRow).where(CaseRow.open_key.is_not(None)))
    return result.scalars().all()


async def get_case(session: AsyncSession, case_id: int) -> CaseRow | None:
    return await session.get(CaseRow, case_id, populate_existing=True)


async def version_of(session: AsyncSession, case_id: int) -> int | None:
    """The case's version (None: no such case), without loading the row."""
    result = await session.execute(_VERSION, {"of_case": case_id})
    found = result.scalar_one_or_none()
    return None if found is None else int(found)


async def advance_case(
    session: AsyncSession,
    case_id: int,
    *,
    expected_version: int,
    phase: str,
    state: dict[str, Any],
    closed: bool,
    outcome: str | None,
    now: datetime,
) -> bool:
    """Compare-and-swap the case state: False if someone else advanced it first."""
    params: dict[str, Any] = {
        "of_case": case_id,
        "expected": expected_version,
        "new_phase": phase,
        "new_state": state,
        "new_version": expected_version + 1,
    }
    if closed:
        params.update(closed_now=now, new_outcome=outcome)
    result = await session.execute(_CLOSE if closed else _ADVANCE, params)
    return bool(getattr(result, "rowcount", 0) == 1)


# built once, as Core statements of the table (a compare-and-swap runs at every change of
# every case; the ORM's bulk-update path cost more than the statement itself)
_CASES = table(CaseRow)
_ADVANCE = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("of_case"), _CASES.c.version == bindparam("expected"))
    .values(
        phase=bindparam("new_phase"),
        state=bindparam("new_state"),
        version=bindparam("new_version"),
    )
)
_CLOSE = _ADVANCE.values(
    open_key=None, closed_at=bindparam("closed_now"), outcome=bindparam("new_outcome")
)
_VERSION = select(_CASES.c.version).where(_CASES.c.id == bindparam("of_case"))
_LOCK = update(_CASES).where(_CASES.c.id == bindparam("of_case")).values(version=_CASES.c.version)
_SET_THREAD = (
    update(_CASES)
    .where(_CASES.c.id == bindparam("of_case"))
    .values(channel=bindparam("new_channel"), thread_ts=bindparam("new_ts"))
)
_DECIDE = PerDialect(
    lambda insert: (
        insert(DecisionRow)
        .on_conflict_do_nothing(index_elements=[DecisionRow.case_id, DecisionRow.case_version])
        .returning(DecisionRow.id)
    )
)


async def set_thread(session: AsyncSession, case_id: int, channel: str, thread_ts: str) -> None:
    params = {"of_case": case_id, "new_channel": channel, "new_ts": thread_ts}
    await session.execute(_SET_THREAD, params)


async def record_decision(
    session: AsyncSession,
    *,
    case_id: int,
    case_version: int,
    point: str,
    choice: str,
    user_id: str,
    now: datetime,
) -> bool:
    """Record the answer to the question asked at ``case_version``; False if it already had
    one (whoever answered first, in whichever process, is the answer)."""
    values = {
        "case_id": case_id,
        "case_version": case_version,
        "point": point,
        "choice": choice,
        "user_id": user_id,
        "decided_at": now,
    }
    result = await session.execute(_DECIDE(session), values)
    return result.scalar_one_or_none() is not None


async def decision_for(
    session: AsyncSession, case_id: int, case_version: int
) -> DecisionRow | None:
    result = await session.execute(
        select(DecisionRow).where(
            DecisionRow.case_id == case_id, DecisionRow.case_version == case_version
        )
    )
    return result.scalar_one_or_none()


async def lock(session: AsyncSession, case_id: int) -> CaseRow | None:
    """The case, its row locked until commit: whatever this transaction queues for the case
    commits in order with the case's own changes (outbox ids are taken at insert)."""
    await session.execute(_LOCK, {"of_case": case_id})
    return await get_case(session, case_id)


async def hold(session: AsyncSession, case_id: int, version: int, phase: str) -> bool:
    """True if the case is still at ``version`` in ``phase``; locks its row until commit.

    A no-op update rather than SELECT ... FOR UPDATE so that SQLite takes its write lock too.
    """
    result = await session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id, CaseRow.version == version, CaseRow.phase == phase)
        .values(version=CaseRow.version)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def decisions_of(session: AsyncSession, case_id: int) -> Sequence[DecisionRow]:
    """Every decision and answer recorded for the case, in the order they were given."""
    result = await session.execute(
        select(DecisionRow).where(DecisionRow.case_id == case_id).order_by(DecisionRow.id)
    )
    return result.scalars().all()


async def opened_counts(
    session: AsyncSession, appliances: Sequence[str], since: datetime
) -> dict[str, int]:
    """Appliance -> how many cases were opened for it since ``since``, for ``appliances``."""
    if not appliances:
        return {}
    result = await session.execute(
        select(CaseRow.appliance, func.count())
        .where(CaseRow.appliance.in_(appliances), CaseRow.opened_at >= since)
        .group_by(CaseRow.appliance)
    )
    return {str(appliance): int(count) for appliance, count in result.all()}


async def opened_since(session: AsyncSession, appliance: str, since: datetime) -> int:
    """How many cases were opened for the appliance since ``since`` (open ones included)."""
    result = await session.execute(
        select(func.count())
        .select_from(CaseRow)
        .where(CaseRow.appliance == appliance, CaseRow.opened_at >= since)
    )
    return int(result.scalar_one())


async def recently_closed(session: AsyncSession, limit: int) -> Sequence[CaseRow]:
    """The latest closed cases of every appliance, the newest first."""
    result = await session.execute(
        select(CaseRow)
        .where(CaseRow.open_key.is_(None), CaseRow.closed_at.is_not(None))
        .order_by(CaseRow.closed_at.desc(), CaseRow.id.desc())
        .limit(limit)
    )
    return result.scalars().all()


async def past_cases(session: AsyncSession, appliance: str, limit: int) -> Sequence[CaseRow]:
    """The appliance's closed cases, the newest first."""
    result = await session.execute(
        select(CaseRow)
        .where(CaseRow.appliance == appliance, CaseRow.open_key.is_(None))
        .order_by(CaseRow.id.desc())
        .limit(limit)
    )
    return result.scalars().all()
