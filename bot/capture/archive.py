"""Open a capture export safely: a zip of captures, or one bare (optionally gzipped) capture.

Limits are checked on the bytes actually decompressed, never on sizes an archive claims.
A compressed capture is inflated in a thread while it is analysed (``bot.capture.ahead``).
"""

from __future__ import annotations

import gzip
import io
import lzma
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from bot.capture.ahead import ReadAhead
from bot.errors import CaptureError

PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
_ARCHIVE_MAGICS = (
    b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c", b"Rar!", b"\x28\xb5\x2f\xfd",
)  # fmt: skip
_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".7z", ".rar", ".zst")
_CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap", ".dmp")
_CHUNK = 64 * 1024


class Readable(Protocol):
    """Anything with a binary ``read`` and ``close``."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ArchiveLimits:
    """What an export may contain before it is refused as hostile."""

    max_members: int = 64
    max_total_bytes: int = 1 << 30  # uncompressed, over the whole export
    max_ratio: float = 200.0  # uncompressed / compressed
    ratio_grace_bytes: int = 1 << 20  # tiny files compress well; judge the ratio beyond this


@dataclass(frozen=True)
class CaptureStream:
    """One capture inside an export: ``head`` holds its first bytes, ``stream`` the rest."""

    name: str
    kind: str  # "pcap" or "pcapng"
    head: bytes
    stream: Readable


def sniff(head: bytes) -> str:
    """'pcap', 'pcapng', 'archive' or 'unknown', from a file's first bytes."""
    if head[:4] in PCAP_MAGICS:
        return "pcap"
    if head[:4] == PCAPNG_MAGIC:
        return "pcapng"
    if any(head.startswith(magic) for magic in _ARCHIVE_MAGICS):
        return "archive"
    return "unknown"


class _CountingBytes(io.BytesIO):
    """The compressed input; counts the bytes the decompressor really consumed."""

    consumed = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.consumed += len(data)
        return data


class _CountingFile(io.RawIOBase):
    """A compressed file on disk; counts the bytes the decompressor really consumed."""

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner, self.consumed = inner, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0, /) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def read(self, size: int | None = -1, /) -> bytes:
        data = self._inner.read(-1 if size is None else size)
        self.consumed += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview, /) -> int:  # type: ignore[override]
        got = self._inner.readinto(buffer)  # type: ignore[attr-defined]
        self.consumed += got or 0
        return got or 0


_Counting = _CountingBytes | _CountingFile


class _Budget:
    """Counts decompressed bytes for the whole export and refuses bombs as they inflate."""

    def __init__(self, limits: ArchiveLimits, source: _Counting) -> None:
        self.limits, self.source, self.total = limits, source, 0

    def spend(self, name: str, produced: int, member_total: int, member_start: int) -> None:
        self.total += produced
        limits = self.limits
        if self.total > limits.max_total_bytes:
            raise CaptureError(
                f"{name}: export expands beyond {limits.max_total_bytes} bytes; refused",
                reason="too_large",
            )
        consumed = max(self.source.consumed - member_start, 1)
        if member_total > limits.ratio_grace_bytes and member_total / consumed > limits.max_ratio:
            raise CaptureError(
                f"{name}: compression ratio above {limits.max_ratio:g}; refused as a zip bomb",
                reason="ratio",
            )


class _Limited(io.RawIOBase):
    """A read-only stream that charges every decompressed byte to a ``_Budget``."""

    def __init__(self, inner: Readable, name: str, budget: _Budget) -> None:
        self._inner, self._name, self._budget = inner, name, budget
        self._start, self._produced = budget.source.consumed, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1, /) -> bytes:
        want = _CHUNK if size is None or size < 0 else min(size, _CHUNK)
        # read1 where there is one: GzipFile.read() drops what it had already inflated when
        # the stream then turns out damaged, read1 hands it over first
        data = getattr(self._inner, "read1", self._inner.read)(want)
        self._produced += len(data)
        self._budget.spend(self._name, len(data), self._produced, self._start)
        return data

    def readinto(self, buffer: bytearray | memoryview, /) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._inner.close()
        super().close()


def _check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise CaptureError(f"zip member {name!r} has an unsafe path; refused", reason="traversal")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise CaptureError(f"zip member {name!r} is a symbolic link; refused", reason="symlink")
    if info.flag_bits & 0x1:
        raise CaptureError(f"zip member {name!r} is encrypted", reason="encrypted")
    if name.lower().endswith(_ARCHIVE_SUFFIXES):
        raise CaptureError(f"zip member {name!r} is a nested archive; refused", reason="nested")


MAX_DIRECTORY = 1 << 20  # a console export lists a handful of files, not a million


def _check_directory(source: _Counting, filename: str) -> None:
    """zipfile parses the whole central directory up front: read its size first."""
    end = source.seek(0, io.SEEK_END)
    source.seek(max(0, end - 22 - 0xFFFF))
    tail = source.read()
    source.seek(0)
    source.consumed = 0
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return  # not found: let zipfile give its own clear error
    size = struct.unpack_from("<I", tail, at + 12)[0]
    if size > MAX_DIRECTORY and size != 0xFFFFFFFF:
        raise CaptureError(
            f"{filename}: the zip directory is {size} bytes (at most {MAX_DIRECTORY}); refused",
            reason="too_many_members",
        )


def _zip_streams(
    source: _Counting, filename: str, limits: ArchiveLimits
) -> Iterator[CaptureStream]:
    _check_directory(source, filename)
    try:
        archive = zipfile.ZipFile(source)
        members = [info for info in archive.infolist() if not info.filename.endswith("/")]
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        ValueError,
        OSError,
        struct.error,
        NotImplementedError,
        IndexError,
    ) as exc:
        raise CaptureError(f"{filename}: not a readable zip archive ({exc})") from exc
    with archive:
        if len(members) > limits.max_members:
            raise CaptureError(
                f"{filename}: {len(members)} files in the archive, at most "
                f"{limits.max_members} allowed",
                reason="too_many_members",
            )
        for info in members:
            _check_member(info)
        budget, found = _Budget(limits, source), False
        for info in members:
            try:
                raw = archive.open(info)
            except (
                zipfile.BadZipFile,
                NotImplementedError,
                RuntimeError,
                ValueError,
                OSError,
            ) as exc:
                raise CaptureError(f"{filename}: cannot open {info.filename!r}: {exc}") from exc
            with _Limited(raw, info.filename, budget) as stream:
                head = _read_head(stream)
                kind = sniff(head)
                if kind == "archive":
                    raise CaptureError(
                        f"zip member {info.filename!r} is a nested archive; refused",
                        reason="nested",
                    )
                if kind == "unknown":
                    if info.filename.lower().endswith(_CAPTURE_SUFFIXES):
                        raise CaptureError(
                            f"{info.filename!r} is not a pcap or pcapng capture", reason="garbage"
                        )
                    continue  # a readme or similar next to the captures
                found = True
                with ReadAhead(stream) as ahead:  # inflated in a thread while analysed
                    yield CaptureStream(info.filename, kind, head, ahead)
        if not found:
            raise CaptureError(f"{filename}: the archive contains no pcap or pcapng file")


def _read_head(stream: Readable) -> bytes:
    head = b""
    try:
        while len(head) < 8:  # reads may come back short: the magic needs all 8 bytes
            more = stream.read(8 - len(head))
            if not more:
                break
            head += more
        return head
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise CaptureError(f"cannot decompress the capture: {exc}") from exc


def open_export(
    data: bytes | Path, filename: str, limits: ArchiveLimits | None = None
) -> Iterator[CaptureStream]:
    """Yield every capture in ``data`` (bytes or a file path, streamed from disk).

    ``CaptureError`` for hostile or unreadable exports.
    """
    limits = limits or ArchiveLimits()
    if isinstance(data, Path):
        try:
            handle = data.open("rb")
        except OSError as exc:
            raise CaptureError(f"{filename}: cannot open the file ({exc.strerror})") from exc
        with handle:
            yield from _open(_CountingFile(handle), handle.read(8), filename, limits)
        return
    yield from _open(_CountingBytes(data), data[:8], filename, limits)


def capture_name(filename: str) -> str:
    """The name a bare capture file is reported under: its file name without folders."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1] or "capture"


def _open(
    source: _Counting, first: bytes, filename: str, limits: ArchiveLimits
) -> Iterator[CaptureStream]:
    source.seek(0)
    if first.startswith(b"PK"):
        yield from _zip_streams(source, filename, limits)
        return
    name = capture_name(filename)
    if first.startswith(b"\x1f\x8b"):
        inner: Readable = gzip.GzipFile(fileobj=source)
        name = name[:-3] if name.lower().endswith(".gz") else name
        with _Limited(inner, name, _Budget(limits, source)) as stream:
            head = _read_head(stream)
            kind = sniff(head)
            if kind in ("pcap", "pcapng"):
                with ReadAhead(stream) as ahead:  # inflated in a thread while analysed
                    yield CaptureStream(name, kind, head, ahead)
                return
        raise CaptureError(f"{filename}: the gzip file does not hold a pcap or pcapng capture")
    kind = sniff(first)
    if kind not in ("pcap", "pcapng"):
        raise CaptureError(
            f"{filename}: not a pcap, pcapng or zip file "
            f"(starts with {first[:4].hex() or 'nothing'})",
            reason="garbage",
        )
    source.seek(8)
    yield CaptureStream(name, kind, first, source)
