"""Statements that differ between SQLite and PostgreSQL, chosen by the session's dialect."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute


def table(model: Any) -> Table:
    """A mapped class's table, for Core statements (an executemany without the ORM's
    bookkeeping per row)."""
    found = model.__table__
    assert isinstance(found, Table)
    return found


def insert(session: AsyncSession, model: Any) -> Any:
    """An INSERT that knows ON CONFLICT, for the database the session talks to."""
    dialect = session.get_bind().dialect.name
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(model)


async def insert_once(
    session: AsyncSession,
    model: Any,
    values: dict[str, Any],
    conflict: Sequence[InstrumentedAttribute[Any] | Column[Any]],
    returning: InstrumentedAttribute[Any],
) -> Any | None:
    """Insert a row unless one with the same ``conflict`` columns exists: the new row's
    ``returning`` value, or None when it already existed. Never raises IntegrityError for that
    conflict, so the caller's transaction stays usable (PostgreSQL aborts on an error)."""
    statement = (
        insert(session, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(returning)
    )
    result = await session.execute(statement)
    return result.scalar_one_or_none()


class PerDialect:
    """A statement built once per dialect (an INSERT ... ON CONFLICT differs between SQLite and
    PostgreSQL) and reused: a statement built anew for each execution costs more than the
    round trip to SQLite."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def __call__(self, session: AsyncSession) -> Any:
        dialect = session.get_bind().dialect.name
        if dialect not in self._built:
            self._built[dialect] = self._build(
                postgresql_insert if dialect == "postgresql" else sqlite_insert
            )
        return self._built[dialect]
