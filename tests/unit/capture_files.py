"""Building blocks for capture tests (not a test module)."""

from __future__ import annotations

import io
import random
import socket
import struct
import zipfile
from pathlib import Path

from bot.capture import analyse_export
from bot.errors import CaptureError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT.parent / "shared" / "data" / "pcaps" / "tcpdump"


def sample_captures(corpus_limit: int | None = None) -> list[tuple[str, bytes]]:
    """(name, bytes) of the captures in tests/data, then of the tcpdump corpus (many files
    deliberately malformed) where it is on this machine, its first ``corpus_limit`` files."""
    found = [(p.name, p.read_bytes()) for p in sorted((ROOT / "tests" / "data").glob("*.pcap*"))]
    if CORPUS.is_dir():
        found += [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob("*.pcap*"))[:corpus_limit]]
    return found


def outcome(name: str, data: bytes) -> str:
    """A whole analysis as text, or why it was refused: for comparing two ways of reading."""
    try:
        return repr(analyse_export(data, name))
    except CaptureError as exc:
        return f"refused: {exc}"


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding ``members``, as an operator or the console would make it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def tcp_frame(src: str, dst: str, sport: int, dport: int) -> bytes:
    """An Ethernet/IPv4/TCP segment with ACK set between two unicast hosts (no payload)."""
    macs = bytes.fromhex("020000000001020000000002")
    ip = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst)
    )
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1, 1, 5 << 4, 0x10, 65535, 0, 0)
    return macs + b"\x08\x00" + ip + tcp


def pcap_file(records: list[tuple[float, bytes]]) -> bytes:
    """A classic little-endian microsecond pcap of Ethernet frames at the given times."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for ts, frame in records:
        seconds = int(ts)
        out.append(
            struct.pack("<IIII", seconds, round((ts - seconds) * 1e6), len(frame), len(frame))
        )
        out.append(frame)
    return b"".join(out)


def mixed_frames(count: int, seed: int = 1) -> list[bytes]:
    """Frames of a busy mirror port: IPv4 and IPv6 TCP both ways, UDP, ICMP, ARP; untagged,
    802.1Q and QinQ; many hosts."""
    rng = random.Random(seed)
    frames = []
    for _ in range(count):
        roll = rng.random()
        src_mac, dst_mac = rng.randbytes(6), rng.randbytes(6)
        tags = rng.choice((b"", b"\x81\x00\x00\x0a", b"\x88\xa8\x03\xe8\x81\x00\x00\x14"))
        sport, dport = rng.randrange(1024, 65536), rng.choice((80, 443, 53))
        if roll < 0.1:
            frames.append(dst_mac + src_mac + tags + b"\x08\x06" + rng.randbytes(28))
            continue
        v6 = roll < 0.3
        proto = rng.choice((6, 6, 6, 17, 58 if v6 else 1))
        if proto == 6:
            l4 = struct.pack(
                "!HHIIBBHHH", sport, dport, 1, 1, 0x50, rng.choice((2, 16, 24)), 9, 0, 0
            )
        else:
            l4 = struct.pack("!HHHH", sport, dport, 8, 0)
        l4 += rng.randbytes(rng.choice((0, 0, 20, 200, 1400)))
        if v6:
            ip = struct.pack("!IHBB", 0x60000000, len(l4), proto, 64)
            ip += b"\x20\x01\x0d\xb8" + rng.randbytes(12) + b"\x20\x01\x0d\xb8" + rng.randbytes(12)
            kind = b"\x86\xdd"
        else:
            hosts = [bytes([10, 0, rng.randrange(4), rng.randrange(1, 255)]) for _ in range(2)]
            ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0)
            ip += hosts[0] + hosts[1]
            kind = b"\x08\x00"
        frames.append(dst_mac + src_mac + tags + kind + ip + l4)
    return frames


def pcap_of(
    frames: list[bytes],
    big_endian: bool = False,
    nanoseconds: bool = False,
    snaplen: int = 65535,
    start: float = 1_767_225_600.0,
) -> bytes:
    """A classic pcap of ``frames`` in either byte order and time resolution, cut at
    ``snaplen``, 1 ms apart."""
    order = ">" if big_endian else "<"
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    scale = 1_000_000_000 if nanoseconds else 1_000_000
    out = [struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, 1)]
    for i, frame in enumerate(frames):
        ticks = round((start + i / 1000) * scale)
        data = frame[:snaplen]
        out.append(
            struct.pack(order + "IIII", ticks // scale, ticks % scale, len(data), len(frame))
        )
        out.append(data)
    return b"".join(out)


def pcapng_of(
    frames: list[bytes],
    big_endian: bool = False,
    *,
    interfaces: tuple[tuple[int, int], ...] = ((1, 6),),
    new_interface_at: int | None = None,
    new_section_at: int | None = None,
    simple_every: int = 0,
    start: float = 1_767_225_600.0,
) -> bytes:
    """A pcapng of ``frames``, 1 ms apart, on ``interfaces`` ((link type, 10^-x s resolution)
    each, packets spread over them in turn); optionally another interface declared before packet
    ``new_interface_at``, a new section (same interfaces) before packet ``new_section_at``, and
    every ``simple_every``-th packet as a simple packet block (on the first interface)."""
    o = ">" if big_endian else "<"

    def block(kind: int, body: bytes) -> bytes:
        body += b"\x00" * (-len(body) % 4)
        length = 12 + len(body)
        return struct.pack(o + "II", kind, length) + body + struct.pack(o + "I", length)

    def section() -> bytes:
        head = block(0x0A0D0D0A, struct.pack(o + "IHHq", 0x1A2B3C4D, 1, 0, -1))
        for link, resolution in interfaces:
            option = struct.pack(o + "HH", 9, 1) + bytes([resolution, 0, 0, 0])
            head += block(1, struct.pack(o + "HHI", link, 0, 65535) + option + b"\x00" * 4)
        return head

    out = [section()]
    for i, frame in enumerate(frames):
        if i == new_interface_at:
            out.append(block(1, struct.pack(o + "HHI", 101, 0, 65535)))
        if i == new_section_at:
            out.append(section())
        if simple_every and i % simple_every == simple_every - 1:
            out.append(block(3, struct.pack(o + "I", len(frame)) + frame))
            continue
        iface = i % len(interfaces)
        ticks = round((start + i / 1000) * 10 ** interfaces[iface][1])
        head = struct.pack(
            o + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF, len(frame), len(frame)
        )
        out.append(block(6, head + frame))
    return b"".join(out)
