"""what replicas share: the installation's facts (the data directory marker), the syslog
receivers, each channel's pace of Slack messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "syslog_receivers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("syslog_receivers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_syslog_receivers_seen_at"), ["seen_at"], unique=False)
    op.create_table(
        "channel_pace",
        sa.Column("channel", sa.String(length=50), nullable=False),
        sa.Column("tat", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )


def downgrade() -> None:
    op.drop_table("channel_pace")
    with op.batch_alter_table("syslog_receivers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_syslog_receivers_seen_at"))
    op.drop_table("syslog_receivers")
    op.drop_table("installation")
