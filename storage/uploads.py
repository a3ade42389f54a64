"""Files posted in case threads. The first event to claim a file id processes it; no other."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import CaseRow, UploadRow


async def claim(
    session: AsyncSession,
    *,
    file_id: str,
    case_id: int,
    case_version: int,
    step: int | None,
    user_id: str | None,
    name: str,
    size: int | None,
    now: datetime,
) -> None:
    """Insert the claim; a second claim of the same file raises ``IntegrityError`` at flush."""
    session.add(
        UploadRow(
            file_id=file_id,
            case_id=case_id,
            case_version=case_version,
            step=step,
            user_id=user_id,
            name=name[:300],
            size=size,
            status="claimed",
            claimed_at=now,
        )
    )
    await session.flush()


async def finish(
    session: AsyncSession,
    file_id: str,
    status: str,
    now: datetime,
    *,
    size: int | None = None,
    sha256: str | None = None,
    detail: str | None = None,
) -> None:
    row = await session.get(UploadRow, file_id)
    if row is not None:
        row.status, row.finished_at, row.detail = status, now, detail
        if size is not None:
            row.size = size
        if sha256 is not None:
            row.sha256 = sha256


async def get(session: AsyncSession, file_id: str) -> UploadRow | None:
    return await session.get(UploadRow, file_id)


async def unfinished(session: AsyncSession) -> Sequence[UploadRow]:
    """Claimed by a process that stopped before finishing them, for open cases only."""
    result = await session.execute(
        select(UploadRow)
        .join(CaseRow, CaseRow.id == UploadRow.case_id)
        .where(UploadRow.status == "claimed", CaseRow.open_key.is_not(None))
        .order_by(UploadRow.claimed_at)
    )
    return result.scalars().all()


async def for_case(session: AsyncSession, case_id: int) -> Sequence[UploadRow]:
    result = await session.execute(
        select(UploadRow).where(UploadRow.case_id == case_id).order_by(UploadRow.claimed_at)
    )
    return result.scalars().all()
