"""Building blocks for capture tests (not a test module)."""

from __future__ import annotations

import io
import socket
import struct
import zipfile


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
