"""each case remembers how many cases its appliance had in the 7 days before it opened
(itself included), for its root message ("3rd case for this sensor in 7 days")

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 21:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("recent_cases", sa.Integer(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of "cases" would drop the
    # table that other tables reference, which SQLite's foreign keys refuse
    op.drop_column("cases", "recent_cases")
