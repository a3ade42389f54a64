"""Replicas of one PostgreSQL database share one data directory: a replica started on
another one is refused in one line that says how to fix it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.startup import MARKER, check_shared_data_dir, open_database
from storage.db import Database


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    opened = await open_database(database_url)
    yield opened
    await opened.dispose()


async def test_a_replica_on_another_directory_is_refused(db: Database, tmp_path: Path) -> None:
    if db.sqlite:
        pytest.skip("SQLite serves one process: there is no other replica's directory")
    shared, other = tmp_path / "shared", tmp_path / "other"
    shared.mkdir()
    other.mkdir()
    await check_shared_data_dir(db, shared)  # the first replica: its directory is marked
    value = (shared / MARKER).read_text().strip()
    assert len(value) == 32
    await check_shared_data_dir(db, shared)  # a second replica on the shared volume
    with pytest.raises(ConfigError) as refused:
        await check_shared_data_dir(db, other)
    line = str(refused.value)
    assert "\n" not in line and f"{other} has no {MARKER}" in line
    assert f"write {value} into {other / MARKER}" in line
    assert not (other / MARKER).exists()  # nothing was adopted behind anyone's back

    (other / MARKER).write_text("0" * 32)  # a stale copy of another installation's files
    with pytest.raises(ConfigError, match=f"holds marker {'0' * 32}, not this database's"):
        await check_shared_data_dir(db, other)
    (other / MARKER).write_text(value + "\n")  # adopted, as the refusal said
    await check_shared_data_dir(db, other)


async def test_an_upgraded_single_replica_keeps_its_directory(db: Database, tmp_path: Path) -> None:
    """A directory from before the marker existed, full of files, is the first replica's."""
    (tmp_path / "case-1").mkdir()
    await check_shared_data_dir(db, tmp_path)
    assert (tmp_path / MARKER).exists() != db.sqlite
