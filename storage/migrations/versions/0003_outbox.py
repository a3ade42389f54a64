"""the Slack outbox, the requester's reply address, the reboot's explicit phases

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 21:00:00
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("target_ts", sa.String(length=50), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uncertain", sa.Boolean(), nullable=False),
        sa.Column("ts", sa.String(length=50), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_outbox_pending", ["status", "channel"], unique=False)
        batch_op.create_index("ix_outbox_stream", ["stream", "status"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_url", sa.Text(), nullable=True))
    _open_cases_to_v2()


def _open_cases_to_v2() -> None:
    """Open cases as the new runbook knows them: who performs the steps is in the state, and
    the wait for a rebooted sensor is two phases (not yet seen down / seen down)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT c.id, c.phase, c.state, a.driver FROM cases c "
            "JOIN appliances a ON a.name = c.appliance WHERE c.open_key IS NOT NULL"
        )
    ).fetchall()
    instructed = {
        row[0]
        for row in bind.execute(
            sa.text("SELECT case_id FROM side_effects WHERE outcome = 'instructed'")
        )
    }
    for case_id, phase, raw, driver in rows:
        state: dict[str, Any] = json.loads(raw) if isinstance(raw, str) else dict(raw)
        state["guided"] = driver == "guided"
        went_down = bool(state.pop("went_down", False))
        if phase == "wait_for_appliance":
            phase = "wait_for_back" if went_down else "wait_for_down"
        elif phase == "rebooting" and state["guided"] and case_id in instructed:
            phase = "reboot_instructed"
        state["phase"] = phase
        bind.execute(
            sa.text("UPDATE cases SET phase = :phase, state = :state WHERE id = :id"),
            {"phase": phase, "state": json.dumps(state), "id": case_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("reply_url")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_stream")
        batch_op.drop_index("ix_outbox_pending")
        batch_op.drop_index("ix_outbox_case_id")
    op.drop_table("outbox")
