"""What a process checks before it takes any work: each problem is one line that says what to
fix (``ConfigError``), never a traceback; a credential inside the database URL is never shown."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import ArgumentError, DBAPIError, InvalidRequestError, NoSuchModuleError

from bot.errors import ConfigError
from bot.redact import redact
from storage import installation
from storage.db import Database, current_revision, head_revision, make_engine, upgrade

SETTING = "DDI_BOT_DATABASE_URL"
MARKER = ".ddi-bot-installation"  # in DDI_BOT_DATA_DIR: which installation the files are of
_MARKER_KEY = "data_dir_marker"
EXAMPLES = "sqlite+aiosqlite:///ddi-bot.db or postgresql://user@host:5432/ddibot"


def _engine(url: str) -> Database:
    shown = redact(url)
    try:
        return Database(make_engine(url))
    except NoSuchModuleError:  # an ArgumentError too: first
        scheme = shown.split("://", 1)[0]
        raise ConfigError(f"{SETTING}: no database driver for {scheme!r}; use {EXAMPLES}") from None
    except ArgumentError:
        raise ConfigError(
            f"{SETTING} {shown!r} is not a database URL; for example {EXAMPLES}"
        ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"{SETTING}: its driver {exc.name!r} is not installed (pip install {exc.name}), "
            f"or use {EXAMPLES}"
        ) from None
    except InvalidRequestError as exc:  # a driver that is not asyncio-capable
        raise ConfigError(f"{SETTING}: {redact(str(exc))}; use {EXAMPLES}") from None


def _reason(exc: BaseException) -> str:
    """The database's own words, on one line, with a hint where one helps."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = (getattr(cause, "strerror", None) if isinstance(cause, OSError) else None) or str(cause)
    text = redact(" ".join(text.split()) or type(cause).__name__)
    lowered = text.lower()
    if "does not exist" in lowered and "database" in lowered:
        text += " (create it first, for example with createdb)"
    elif "unable to open database file" in lowered:
        text += " (does its directory exist, and may the bot write there?)"
    elif "is the server running" in lowered:
        pass  # psycopg's own words already say what to look at
    elif isinstance(cause, ConnectionRefusedError) or "connection refused" in lowered:
        text += " (is the server running, and are the host and port right?)"
    return text


async def open_database(url: str) -> Database:
    """The database, reachable and at the newest schema."""
    db = _engine(url)
    folder = _sqlite_folder(db)
    if folder is not None and not folder.is_dir():
        await db.dispose()
        problem = "is not a directory" if folder.exists() else "does not exist"
        raise ConfigError(f"cannot open the database {redact(url)}: {folder} {problem}")
    try:
        await upgrade(db.engine)
    except (DBAPIError, OSError, TimeoutError) as exc:
        await db.dispose()
        await _sqlite_threads_gone()
        raise ConfigError(f"cannot open the database {redact(url)}: {_reason(exc)}") from None
    return db


async def open_existing_database(url: str) -> Database:
    """The database as it is, for commands that only read (``case verify``): never created,
    never migrated; one at an older schema is refused, saying how to bring it up to date."""
    db = _engine(url)
    folder = _sqlite_folder(db)
    name = db.engine.url.database or ""
    if folder is not None and not await asyncio.to_thread((folder / Path(name).name).is_file):
        await db.dispose()
        raise ConfigError(f"cannot open the database {redact(url)}: {name} does not exist")
    try:
        revision = await current_revision(db.engine)
    except (DBAPIError, OSError, TimeoutError) as exc:
        await db.dispose()
        await _sqlite_threads_gone()
        raise ConfigError(f"cannot open the database {redact(url)}: {_reason(exc)}") from None
    if revision != head_revision():
        await db.dispose()
        raise ConfigError(
            f"the database {redact(url)} is at schema revision {revision or 'none'}, not "
            f"{head_revision()}: run 'ddi-bot db upgrade' first (this command only reads)"
        )
    return db


def _sqlite_folder(db: Database) -> Path | None:
    """The directory of a SQLite database file (None: not SQLite, or in memory)."""
    if not db.sqlite:
        return None
    name = db.engine.url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name).resolve().parent


async def _sqlite_threads_gone(within: float = 1.0) -> None:
    """Let aiosqlite's worker threads of a failed connection end while the event loop still
    runs: one that ends after it prints a traceback ("Event loop is closed") at exit."""
    for thread in threading.enumerate():
        if thread.name.endswith("(_connection_worker_thread)"):
            await asyncio.to_thread(thread.join, within)


def check_data_dir(path: Path) -> None:
    """The directory where the bot keeps files (created if missing) takes a file."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".ddi-bot-write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"DDI_BOT_DATA_DIR {path} is not a directory the bot can write to: "
            f"{exc.strerror or exc}"
        ) from None


async def check_shared_data_dir(db: Database, path: Path) -> None:
    """Replicas of one PostgreSQL database keep their files in one shared directory: the
    first one to start writes a marker there (and its value in the database); a replica whose
    ``DDI_BOT_DATA_DIR`` holds another marker, or none, is refused: it would miss the files
    the others keep, and keep its own where they cannot see them."""
    if db.sqlite:
        return  # one process: its directory is the only one
    marker = path / MARKER
    async with db.write() as session:
        # replicas starting together: one at a time reads, records and writes the marker
        await session.execute(text("SELECT pg_advisory_xact_lock(4242003)"))
        mine = _read_marker(marker)
        expected, first = await installation.first_value(
            session, _MARKER_KEY, mine or secrets.token_hex(16), datetime.now(UTC)
        )
        if mine is None and first:  # the first replica (or the first start since the upgrade)
            _write_marker(marker, expected)  # before the commit: never a value without a file
            return
    if mine == expected:
        return
    found = f"holds marker {mine}" if mine else f"has no {MARKER}"
    raise ConfigError(
        f"DDI_BOT_DATA_DIR {path} {found}, not this database's ({expected}): every replica "
        "must use the same shared directory as the others (mount the same volume); if that "
        f"directory is lost for good, write {expected} into {marker} to adopt this one"
    )


def _read_marker(marker: Path) -> str | None:
    try:
        return marker.read_text(encoding="ascii").strip() or None if marker.exists() else None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"DDI_BOT_DATA_DIR: cannot read {marker}: {exc}") from None


def _write_marker(marker: Path, value: str) -> None:
    """Written whole or not at all (another replica never reads half a marker)."""
    partial = marker.with_name(f"{marker.name}.{secrets.token_hex(4)}.tmp")
    try:
        partial.write_text(value + "\n", encoding="ascii")
        os.replace(partial, marker)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"DDI_BOT_DATA_DIR: cannot write {marker}: {exc.strerror}") from None
