"""The installation's facts, written once by whichever replica comes first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert
from storage.models import InstallationRow


async def first_value(
    session: AsyncSession, key: str, value: str, now: datetime
) -> tuple[str, bool]:
    """``key``'s value, and whether this call wrote it: ``value`` if nobody wrote one before,
    else the one written first."""
    written = await session.execute(
        insert(session, InstallationRow)
        .values(key=key, value=value, created_at=now)
        .on_conflict_do_nothing(index_elements=[InstallationRow.key])
        .returning(InstallationRow.key)
    )
    first = written.scalar_one_or_none() is not None
    found = await session.execute(select(InstallationRow.value).where(InstallationRow.key == key))
    return str(found.scalar_one()), first
