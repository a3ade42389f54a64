"""the fleet watch's alerts, and the outbox rows that are an alert's message

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("open_key", sa.String(length=300), nullable=True),
        sa.Column("appliance", sa.String(length=200), nullable=False),
        sa.Column("condition", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("lang", sa.String(length=5), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ts", sa.String(length=50), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("case_by", sa.String(length=100), nullable=True),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_alerts_key", "alerts", ["key"], unique=False)
    op.create_index("ix_alerts_appliance", "alerts", ["appliance"], unique=False)
    op.add_column("outbox", sa.Column("alert_id", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_alert_id", "outbox", ["alert_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_alert_id", table_name="outbox")
    op.drop_column("outbox", "alert_id")
    op.drop_index("ix_alerts_appliance", table_name="alerts")
    op.drop_index("ix_alerts_key", table_name="alerts")
    op.drop_table("alerts")
