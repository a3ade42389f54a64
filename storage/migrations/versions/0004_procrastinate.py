"""procrastinate's tables, on PostgreSQL only: the job queue replicas share

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 14:00:00

Applied by ``storage.db.upgrade`` under its advisory lock, so replicas starting together apply
it once. procrastinate's own schema file is used as it ships, for the installed version.
"""

from __future__ import annotations

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_DROP = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p
             JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%%'
    LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE';
    END LOOP;
END $$;
DO $$
DECLARE t record;
BEGIN
    -- its enums and composite types (the tables' own row types went with the tables)
    FOR t IN SELECT y.typname FROM pg_type y JOIN pg_namespace n ON n.oid = y.typnamespace
             WHERE n.nspname = current_schema() AND y.typname LIKE 'procrastinate%%'
               AND y.typtype IN ('e', 'c')
    LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(t.typname) || ' CASCADE';
    END LOOP;
END $$;
"""


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return  # SQLite: one process, no job queue
    # psycopg takes "%" for a placeholder: the schema's own "%" signs are doubled
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(_DROP)
