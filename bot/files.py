"""Files people post in a case thread, as the engine sees them (Slack implements the source)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class SharedFile:
    id: str
    name: str
    size: int | None  # as Slack reports it; the download enforces the limit anyway
    user: str | None  # who posted it
    threads: tuple[tuple[str, str], ...]  # (channel, thread_ts) of each thread it was posted in
    mimetype: str | None = None


@dataclass(frozen=True)
class Downloaded:
    path: Path
    size: int
    sha256: str


class FileSource(Protocol):
    async def info(self, file_id: str) -> SharedFile:
        """Raise ``UploadRefused`` if the file cannot be looked up."""
        ...

    async def download(self, file_id: str, dest: Path, limit: int) -> Downloaded:
        """Stream the file to ``dest``; ``UploadRefused`` beyond ``limit`` bytes or on failure,
        leaving nothing behind."""
        ...
