"""the timeline's hash chain: each event's place, previous hash and own hash; each case's
count and head. Existing timelines are chained in the order they were written (by id).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 17:20:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.chain import GENESIS, event_hash

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String),
    sa.column("actor", sa.String),
    sa.column("data", sa.JSON),
    sa.column("seq", sa.Integer),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)
_CASES = sa.table(
    "cases",
    sa.column("id", sa.Integer),
    sa.column("events_count", sa.Integer),
    sa.column("events_head", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("events_count", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("events_head", sa.String(length=64), nullable=True))
    _backfill(op.get_bind())


def _backfill(bind: sa.engine.Connection) -> None:
    rows = bind.execute(
        sa.select(
            _EVENTS.c.id, _EVENTS.c.case_id, _EVENTS.c.at, _EVENTS.c.kind,
            _EVENTS.c.actor, _EVENTS.c.data,
        ).order_by(_EVENTS.c.case_id, _EVENTS.c.id)
    )  # fmt: skip
    links: list[dict[str, Any]] = []
    heads: dict[int, tuple[int, str]] = {}
    for event_id, case_id, at, kind, actor, data in rows:
        count, prev = heads.get(case_id, (0, GENESIS))
        count += 1
        digest = event_hash(case_id, count, _utc(at), kind, actor, data, prev)
        links.append({"of_id": event_id, "new_seq": count, "new_prev": prev, "new_hash": digest})
        heads[case_id] = (count, digest)
    if links:
        bind.execute(
            _EVENTS.update()
            .where(_EVENTS.c.id == sa.bindparam("of_id"))
            .values(
                seq=sa.bindparam("new_seq"),
                prev_hash=sa.bindparam("new_prev"),
                hash=sa.bindparam("new_hash"),
            ),
            links,
        )
    if heads:
        bind.execute(
            _CASES.update()
            .where(_CASES.c.id == sa.bindparam("of_case"))
            .values(events_count=sa.bindparam("new_count"), events_head=sa.bindparam("new_head"))
            , [{"of_case": c, "new_count": n, "new_head": h} for c, (n, h) in heads.items()],
        )  # fmt: skip


def _utc(value: datetime | str) -> datetime:
    """The event time as the application reads it back (storage.types.UTCDateTime)."""
    if isinstance(value, str):  # SQLite without the application's type: its text form
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of "cases" would drop the
    # table that events reference, which SQLite's foreign keys refuse
    for table, column in (
        ("cases", "events_head"), ("cases", "events_count"),
        ("events", "hash"), ("events", "prev_hash"), ("events", "seq"),
    ):  # fmt: skip
        op.drop_column(table, column)
