"""pcapng: the first damaged block ends the read with its own reason, whatever follows it."""

from __future__ import annotations

import struct

import pytest
from capture_files import mixed_frames

from bot.capture import analyse_export

FRAMES = mixed_frames(400, seed=3)


def _block(kind: int, body: bytes, trailing: int | None = None) -> bytes:
    body += bytes(-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", kind, total) + body + struct.pack("<I", trailing or total)


def _pcapng(lie_at: int | None = None, stranger_at: int | None = None) -> bytes:
    out = [_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    out.append(_block(1, struct.pack("<HHI", 1, 0, 0)))  # Ethernet, microseconds
    nano = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)  # if_tsresol 10^-9
    out.append(_block(1, struct.pack("<HHI", 1, 0, 0) + nano))
    for i, frame in enumerate(FRAMES):
        iface = 7 if i == stranger_at else i % 2
        ticks = 1_767_225_600_000_000 * (1000 if iface == 1 else 1) + i
        head = struct.pack("<IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame))
        body = head + frame
        lie = 12 + len(body) + (-len(body) % 4) + 4 if i == lie_at else None
        out.append(_block(6, body, lie))
    return b"".join(out)


def test_two_interfaces_every_packet_read() -> None:
    s = analyse_export(_pcapng(), "two.pcapng").summary
    assert s.packets == len(FRAMES) and not s.partial
    assert s.first_ts == pytest.approx(1_767_225_600.0)


@pytest.mark.parametrize(
    ("lie_at", "stranger_at", "packets", "reason"),
    [
        (150, None, 150, "lengths differ"),
        (150, 300, 150, "lengths differ"),
        (300, 150, 150, "undeclared interface 7"),
        (None, 10, 10, "undeclared interface 7"),
    ],
)
def test_the_first_damaged_block_gives_the_reason(
    lie_at: int | None, stranger_at: int | None, packets: int, reason: str
) -> None:
    s = analyse_export(_pcapng(lie_at, stranger_at), "bad.pcapng").summary
    assert s.partial and s.packets == packets
    assert reason in (s.reason or "")
