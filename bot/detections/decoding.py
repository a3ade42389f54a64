"""Turn an export's bytes into a stream of text lines without ever holding the whole file.

Console exports are UTF-8 (with or without a BOM); Excel on Japanese Windows saves CP932
(Shift_JIS) or, as "Unicode text", UTF-16 with a BOM and TABs. Decoding is incremental (an
``io.TextIOWrapper`` over the open file); only the first chunk is examined to choose a codec.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bot.detections.errors import BinaryDetectionExport, DetectionRowTooLarge

HEAD_BYTES = 256 * 1024  # what the codec is chosen from
MAX_RECORD_CHARS = 1024 * 1024  # one row, even spread over several lines by quoted newlines

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _utf16_without_bom(head: bytes) -> str | None:
    """Mostly-ASCII UTF-16 shows a NUL in every other byte."""
    sample = head[: 4096 - 4096 % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > half * 0.4 and even < half * 0.05:
        return "utf-16-le"
    if even > half * 0.4 and odd < half * 0.05:
        return "utf-16-be"
    return None


def choose_encoding(head: bytes, complete: bool) -> str:
    """The codec for a file starting with ``head`` (``complete`` when that is the whole file).

    Raises ``BinaryDetectionExport`` for NUL bytes that are not UTF-16/32 text.
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    if b"\x00" in head:
        wide = _utf16_without_bom(head)
        if wide is None:
            raise BinaryDetectionExport("NUL bytes")
        return wide
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(head, final=complete)  # a character cut at the chunk's end waits
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8"


def open_text(path: Path) -> tuple[IO[str], str]:
    """The file as text (invalid bytes after the examined head become U+FFFD) and its codec."""
    raw = path.open("rb")
    try:
        head = raw.read(HEAD_BYTES)
        encoding = choose_encoding(head, complete=len(head) < HEAD_BYTES)
        raw.seek(0)
        return io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=""), encoding
    except BaseException:
        raw.close()
        raise


class LineSource:
    """Physical lines of a text stream, for ``csv.reader``, with a bound on each record's size.

    ``readline`` is given a limit, so a file without newlines is never read into one string;
    when the record being read (``start_record`` marks its first line) passes
    ``MAX_RECORD_CHARS``, ``DetectionRowTooLarge`` names the line where it began.
    """

    def __init__(self, stream: IO[str], limit: int = MAX_RECORD_CHARS) -> None:
        self.stream = stream
        self.limit = limit
        self.line = 0  # physical lines read so far
        self.record_line = 1  # where the record being read began
        self._record_chars = 0

    def start_record(self) -> None:
        self.record_line = self.line + 1
        self._record_chars = 0

    def readline(self) -> str:
        text = self.stream.readline(self.limit - self._record_chars + 1)
        if text:
            self.line += 1
            self._record_chars += len(text)
            if self._record_chars > self.limit:
                raise DetectionRowTooLarge(str(self.record_line))
        return text

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        text = self.readline()
        if not text:
            raise StopIteration
        return text
