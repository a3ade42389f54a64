"""Engine, session factory and schema migrations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite import use_connections

MIGRATIONS = Path(__file__).with_name("migrations")
# Connections for PostgreSQL: sessions are held only for one short transaction (never across
# a call to Slack or an appliance), so a small pool serves hundreds of concurrent cases; a
# request that finds it busy waits its turn rather than failing.
POOL_SIZE = 10
POOL_OVERFLOW = 10
POOL_WAIT_SECONDS = 300.0


# PostgreSQL URLs as people write them; all run on psycopg 3, the driver the job queue
# (procrastinate) shares a transaction with
_POSTGRES_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+asyncpg")
POSTGRES_DRIVER = "postgresql+psycopg"


def driver_url(url: str) -> str:
    """``url`` with the driver the bot runs it on: ``postgresql://``, ``postgres://`` and
    ``postgresql+asyncpg://`` become ``postgresql+psycopg://``; anything else is unchanged."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in _POSTGRES_SCHEMES:
        return f"{POSTGRES_DRIVER}://{rest}"
    return url


def make_engine(url: str) -> AsyncEngine:
    url = driver_url(url)
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, connect_args={"timeout": 30}, pool_timeout=POOL_WAIT_SECONDS
        )
        use_connections(engine)
        return engine
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_timeout=POOL_WAIT_SECONDS,
    )


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


class Database:
    """Sessions for one unit of work each: ``read()`` and ``write()``.

    SQLite has one writer at a time: a transaction that reads and then writes fails at once
    ("database is locked") when another connection wrote in between. So on SQLite, writes of
    this process queue on a lock and take the write lock first (``BEGIN IMMEDIATE``); other
    connections (the syslog receiver's engine, another process) are waited for by SQLite's
    busy timeout, in the connection's thread (``storage.sqlite``).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = make_sessions(engine)
        self.sqlite = engine.dialect.name == "sqlite"
        self._writer = asyncio.Lock()

    def read(self) -> AsyncSession:
        return self.sessions()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        if not self.sqlite:
            async with self.sessions.begin() as session:
                yield session
            return
        async with self._writer, self.sessions.begin() as session:
            await session.execute(text("BEGIN IMMEDIATE"))
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run at every start."""

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # replicas starting together: one migrates, the others wait, then find it done
            connection.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
        command.upgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema back to ``revision`` (an operator rolling back a release)."""

    def run(connection: Connection) -> None:
        command.downgrade(_alembic_config(connection), revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


def head_revision() -> str:
    """The newest schema revision this release knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as conn:
        return await conn.run_sync(read)
