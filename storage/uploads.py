"""Files posted in case threads. The first event to claim a file id processes it; no other.

A claim is a lease held by an owner (one process): the owner renews it while it works, and
only the owner can renew or finish it. A claim nobody renewed for a lease is stale; one process
can take it over, and from then on the old owner's renewals and finish fail.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialect import insert_once
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
    owner: str,
    now: datetime,
) -> bool:
    """Claim the file for ``owner``; False if it was claimed before (by any event or process)."""
    values = {
        "file_id": file_id,
        "case_id": case_id,
        "case_version": case_version,
        "step": step,
        "user_id": user_id,
        "name": name[:300],
        "size": size,
        "status": "claimed",
        "owner": owner,
        "claimed_at": now,
    }
    found = await insert_once(session, UploadRow, values, [UploadRow.file_id], UploadRow.file_id)
    return found is not None


async def finish(
    session: AsyncSession,
    file_id: str,
    owner: str,
    status: str,
    now: datetime,
    *,
    size: int | None = None,
    sha256: str | None = None,
    detail: str | None = None,
) -> bool:
    """Close the owner's open claim; False if it is closed, or no longer the owner's."""
    values: dict[str, object] = {"status": status, "finished_at": now, "detail": detail}
    if size is not None:
        values["size"] = size
    if sha256 is not None:
        values["sha256"] = sha256
    result = await session.execute(
        update(UploadRow)
        .where(
            UploadRow.file_id == file_id,
            UploadRow.status == "claimed",
            UploadRow.owner == owner,
        )
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def renew(session: AsyncSession, file_id: str, owner: str, now: datetime) -> bool:
    """Still working on it: the lease starts again; False if the claim is no longer ours."""
    result = await session.execute(
        update(UploadRow)
        .where(
            UploadRow.file_id == file_id,
            UploadRow.status == "claimed",
            UploadRow.owner == owner,
        )
        .values(claimed_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get(session: AsyncSession, file_id: str) -> UploadRow | None:
    return await session.get(UploadRow, file_id, populate_existing=True)


async def stale(session: AsyncSession, before: datetime) -> Sequence[UploadRow]:
    """Claims nobody renewed since ``before`` (their process stopped), for open cases only."""
    result = await session.execute(
        select(UploadRow)
        .join(CaseRow, CaseRow.id == UploadRow.case_id)
        .where(
            UploadRow.status == "claimed",
            UploadRow.claimed_at < before,
            CaseRow.open_key.is_not(None),
        )
        .order_by(UploadRow.claimed_at)
    )
    return result.scalars().all()


async def retake(
    session: AsyncSession, file_id: str, owner: str, before: datetime, now: datetime
) -> bool:
    """Take over a stale claim; only one process can (the update checks it is still stale)."""
    result = await session.execute(
        update(UploadRow)
        .where(
            UploadRow.file_id == file_id,
            UploadRow.status == "claimed",
            UploadRow.claimed_at < before,
        )
        .values(claimed_at=now, owner=owner)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
