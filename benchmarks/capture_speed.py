"""Capture analysis speed and memory, as a user sees it: whole processes, side by side.

Generates a SPAN-like capture (below), then times each tool as a whole process on the same
file, already in the page cache (one untimed warm-up run each), and prints the median of 3 runs:
packets/s and the peak RSS of that process (``ru_maxrss`` from ``os.wait4`` on it).

- ``ddi-bot analyze-pcap FILE --json``: the full analysis (summary, verdict, talkers,
  conversations, per-second series), start-up included (``python -m bot``, this checkout,
  its bytecode cached by the warm-up run as an installed package's is);
- the same with its compiled parts (record walk, decoding, tally) turned off, as it runs when
  no C compiler was there at install;
- scapy ``RawPcapReader`` with a ``struct`` loop reading each frame's ethertype (the usual
  hand-written Python analyser);
- ``capinfos`` (C, walks the records, no dissection) and ``tshark -q -z io,phs`` (C, full
  dissection), when installed ("not installed" otherwise);
- ``cat FILE`` to /dev/null: reading the bytes, the floor for any tool.

The SPAN-like mix (seeded, so every run writes the same file): 5,000 IPv4 and 500 IPv6 clients
talking to 300 IPv4 and 40 IPv6 servers over 30,000 conversations; per packet 79 % TCP (both
directions: 45 % bare ACKs, the rest data segments of 100-1,460 bytes, some SYN/FIN), 13 % UDP
(DNS, NTP, syslog, NetBIOS, QUIC), 3 % ICMP/ICMPv6, 4 % ARP, 1 % LLDP; 12 % of the IP packets are
IPv6; 55 % untagged, 35 % 802.1Q (8 VLANs), 10 % QinQ (802.1ad outer, 802.1Q inner); stored with
a 96-byte snap length (headers only, as a SPAN capture for traffic analysis often is), so most
data segments are truncated; about 50,000 packets/s of capture time. 1,000,000 packets make a
file of about 95 MB (112 MB as pcapng).

    .venv/bin/python benchmarks/capture_speed.py            # 1,000,000 packets (~1.5 min)
    .venv/bin/python benchmarks/capture_speed.py --quick    # 50,000 packets, a few seconds
    .venv/bin/python benchmarks/capture_speed.py --format pcapng --packets 3000000
    .venv/bin/python benchmarks/capture_speed.py --format pcap-big-ns   # the other pcap flavour
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAPLEN = 96
RUNS = 3

_SCAPY_LOOP = """
import struct, sys
from scapy.utils import RawPcapReader, RawPcapNgReader
reader = (RawPcapNgReader if sys.argv[1].endswith("ng") else RawPcapReader)(sys.argv[1])
ethertype = struct.Struct("!H").unpack_from
counts, n = {}, 0
for data, meta in reader:
    n += 1
    if len(data) >= 14:
        kind = ethertype(data, 12)[0]
        counts[kind] = counts.get(kind, 0) + 1
print(n)
"""


# --- the SPAN-like capture -------------------------------------------------------------------


def _mac(rng: random.Random) -> bytes:
    return bytes([0x00, 0x50, 0x56, *rng.randbytes(3)])


def _vlan_head(rng: random.Random) -> bytes:
    """The tags between the MAC addresses and the ethertype: none, 802.1Q or QinQ."""
    roll = rng.random()
    if roll < 0.55:
        return b""
    inner = struct.pack("!HH", 0x8100, rng.choice((10, 20, 30, 40, 100, 200, 300, 999)))
    if roll < 0.90:
        return inner
    return struct.pack("!HH", 0x88A8, rng.choice((1000, 2000))) + inner


def _ipv4(src: bytes, dst: bytes, proto: int, payload_len: int) -> bytes:
    return struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 1, 0x4000, 64, proto, 0, src, dst
    )


def _ipv6(src: bytes, dst: bytes, proto: int, payload_len: int) -> bytes:
    return struct.pack("!IHBB16s16s", 0x60000000, payload_len, proto, 64, src, dst)


@dataclass(frozen=True)
class _Frame:
    head: bytes  # the first bytes of the frame (at least SNAPLEN where the frame is longer)
    length: int  # on the wire (Ethernet pads short frames to 60 bytes)

    def __post_init__(self) -> None:
        object.__setattr__(self, "length", max(60, self.length))


def _l2(rng: random.Random, src: bytes, dst: bytes, ethertype: int) -> bytes:
    return dst + src + _vlan_head(rng) + struct.pack("!H", ethertype)


def _tcp_frames(rng: random.Random, hosts: _Hosts) -> list[_Frame]:
    v6 = rng.random() < 0.12
    client, server = hosts.pick(rng, v6)
    cport, sport = rng.randrange(32768, 61000), rng.choice((443, 443, 443, 80, 445, 22, 3389))
    cmac, smac = _mac(rng), hosts.gateway
    tags = _vlan_head(rng)
    out = []
    for _ in range(rng.randrange(2, 9)):
        up = rng.random() < 0.45
        flags = rng.choices((0x10, 0x18, 0x02, 0x12, 0x11), (45, 45, 4, 3, 3))[0]
        data = 0 if flags != 0x18 else rng.choice((rng.randrange(100, 600), 1460, 1460))
        s, d, sp, dp = (client, server, cport, sport) if up else (server, client, sport, cport)
        tcp = struct.pack("!HHIIBBHHH", sp, dp, rng.getrandbits(32), 1, 0x50, flags, 502, 0, 0)
        ip = (_ipv6 if v6 else _ipv4)(s, d, 6, 20 + data)
        l2 = (cmac + smac if not up else smac + cmac) + tags
        l2 += struct.pack("!H", 0x86DD if v6 else 0x0800)
        head = l2 + ip + tcp
        out.append(_Frame(head + rng.randbytes(max(0, SNAPLEN - len(head))), len(head) + data))
    return out


def _udp_frame(rng: random.Random, hosts: _Hosts) -> _Frame:
    v6 = rng.random() < 0.12
    client, server = hosts.pick(rng, v6)
    port, size = rng.choice(((53, 40), (53, 180), (123, 48), (514, 200), (137, 50), (443, 1200)))
    udp = struct.pack("!HHHH", rng.randrange(32768, 61000), port, 8 + size, 0)
    ip = (_ipv6 if v6 else _ipv4)(client, server, 17, 8 + size)
    head = _l2(rng, _mac(rng), hosts.gateway, 0x86DD if v6 else 0x0800) + ip + udp
    return _Frame(head + rng.randbytes(max(0, SNAPLEN - len(head))), len(head) + size)


def _icmp_frame(rng: random.Random, hosts: _Hosts) -> _Frame:
    v6 = rng.random() < 0.3
    client, server = hosts.pick(rng, v6)
    icmp = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, 1, rng.randrange(65536)) + bytes(56)
    ip = (_ipv6 if v6 else _ipv4)(client, server, 58 if v6 else 1, len(icmp))
    head = _l2(rng, _mac(rng), hosts.gateway, 0x86DD if v6 else 0x0800) + ip + icmp
    return _Frame(head[:SNAPLEN], len(head))


def _arp_frame(rng: random.Random, hosts: _Hosts) -> _Frame:
    src = _mac(rng)
    arp = struct.pack(
        "!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, src, hosts.v4(rng), bytes(6), hosts.v4(rng)
    )
    head = _l2(rng, src, b"\xff" * 6, 0x0806) + arp + bytes(18)
    return _Frame(head, len(head))


def _lldp_frame(rng: random.Random) -> _Frame:
    head = b"\x01\x80\xc2\x00\x00\x0e" + _mac(rng) + b"\x88\xcc" + rng.randbytes(60)
    return _Frame(head[:SNAPLEN], len(head))


class _Hosts:
    def __init__(self, rng: random.Random) -> None:
        self.clients4 = [
            bytes([10, 20, rng.randrange(256), rng.randrange(1, 255)]) for _ in range(5000)
        ]
        self.servers4 = [
            bytes([172, 16, rng.randrange(16), rng.randrange(1, 255)]) for _ in range(300)
        ]
        self.clients6 = [b"\x20\x01\x0d\xb8\x00\x01" + rng.randbytes(10) for _ in range(500)]
        self.servers6 = [b"\x20\x01\x0d\xb8\x0f\xff" + rng.randbytes(10) for _ in range(40)]
        self.gateway = bytes.fromhex("001b213a4f01")

    def v4(self, rng: random.Random) -> bytes:
        return rng.choice(self.clients4)

    def pick(self, rng: random.Random, v6: bool) -> tuple[bytes, bytes]:
        if v6:
            return rng.choice(self.clients6), rng.choice(self.servers6)
        return rng.choice(self.clients4), rng.choice(self.servers4)


def _frames(rng: random.Random, count: int) -> list[_Frame]:
    """About ``count`` frames of the mix, conversations interleaved as on a busy link."""
    hosts = _Hosts(rng)
    conversations = [_tcp_frames(rng, hosts) for _ in range(30_000)]
    out: list[_Frame] = []
    while len(out) < count:
        roll = rng.random()
        if roll < 0.79:
            flow = rng.choice(conversations)
            out.append(flow[rng.randrange(len(flow))])
        elif roll < 0.92:
            out.append(_udp_frame(rng, hosts))
        elif roll < 0.95:
            out.append(_icmp_frame(rng, hosts))
        elif roll < 0.99:
            out.append(_arp_frame(rng, hosts))
        else:
            out.append(_lldp_frame(rng))
    return out


def _stored(frame: _Frame) -> bytes:
    """What the capture keeps of a frame: up to the snap length."""
    return (frame.head + bytes(SNAPLEN))[: min(SNAPLEN, frame.length)]


def _pcap_record(ts_us: int, frame: _Frame) -> bytes:
    data = _stored(frame)
    return (
        struct.pack("<IIII", ts_us // 1_000_000, ts_us % 1_000_000, len(data), frame.length) + data
    )


def _pcap_big_ns_record(ts_us: int, frame: _Frame) -> bytes:
    """The other flavour of pcap: big-endian, nanosecond times."""
    data, ts_ns = _stored(frame), ts_us * 1000 + 1
    seconds, fraction = divmod(ts_ns, 1_000_000_000)
    return struct.pack(">IIII", seconds, fraction, len(data), frame.length) + data


def _pcapng_record(ts_us: int, frame: _Frame) -> bytes:
    data = _stored(frame)
    pad = -len(data) % 4
    total = 32 + len(data) + pad
    head = struct.pack(
        "<IIIIIII", 6, total, 0, ts_us >> 32, ts_us & 0xFFFFFFFF, len(data), frame.length
    )
    return head + data + bytes(pad) + struct.pack("<I", total)


def _pcapng_header() -> bytes:
    shb = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
    idb = struct.pack("<IIHHII", 1, 20, 1, 0, SNAPLEN, 20)
    return shb + idb


def generate(path: Path, packets: int, kind: str, seed: int = 14) -> int:
    """Write ``packets`` packets of the SPAN-like mix; returns the file size."""
    rng = random.Random(seed)
    frames = _frames(rng, min(packets, 200_000))  # repeated beyond that, at later times
    record = {"pcapng": _pcapng_record, "pcap-big-ns": _pcap_big_ns_record}.get(kind, _pcap_record)
    ts = 1_767_225_600_000_000  # 2026-01-01, microseconds
    with path.open("wb") as out:
        if kind == "pcapng":
            out.write(_pcapng_header())
        elif kind == "pcap-big-ns":
            out.write(struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, SNAPLEN, 1))
        else:
            out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, 1))
        chunk: list[bytes] = []
        for i in range(packets):
            ts += rng.randrange(1, 40)
            chunk.append(record(ts, frames[i % len(frames)]))
            if len(chunk) >= 50_000:
                out.write(b"".join(chunk))
                chunk.clear()
        out.write(b"".join(chunk))
    return path.stat().st_size


# --- timing whole processes ------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float
    output: bytes


def run_once(argv: list[str], env: dict[str, str]) -> Run:
    """One whole process: wall time from start to reap, and its own peak RSS.

    The peak comes from GNU time (``/usr/bin/time -f %M``) where it is installed: a child
    started straight from this Python process would count this process's memory in its peak
    (Linux keeps the high-water mark across exec); otherwise from ``os.wait4``.
    """
    with tempfile.NamedTemporaryFile() as out, tempfile.NamedTemporaryFile("r") as peak:
        timer = (
            ["/usr/bin/time", "-f", "%M", "-o", peak.name] if Path("/usr/bin/time").exists() else []
        )
        start = time.perf_counter()
        process = subprocess.Popen(
            [*timer, *argv], cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        error = process.stderr.read() if process.stderr else b""
        if process.stderr:
            process.stderr.close()
        if process.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed ({process.returncode}): {error.decode()[-400:]}")
        kib = int(peak.read().split()[-1]) if timer else usage.ru_maxrss
        out.seek(0)
        return Run(seconds, kib / 1024, out.read())


def measure(argv: list[str], env: dict[str, str]) -> list[Run]:
    run_once(argv, env)  # warm-up: page cache, .pyc files
    return [run_once(argv, env) for _ in range(RUNS)]


_NOT_COMPILED = """
import sys
import bot.capture.decode as decode
import bot.capture.records as records
import bot.capture.tally as tally
records.COMPILED = records.COMPILED_EPBS = records.COMPILED_WORDS = None
decode.COMPILED = tally.COMPILED = None
from bot.cli import main
sys.argv = ["ddi-bot", "analyze-pcap", sys.argv[1], "--json"]
main()
"""


def tools(path: Path) -> dict[str, list[str] | None]:
    """Each tool's command line, or ``None`` when it is not installed."""
    capinfos, tshark = shutil.which("capinfos"), shutil.which("tshark")
    return {
        "ddi-bot analyze-pcap --json": [
            sys.executable,
            "-m",
            "bot",
            "analyze-pcap",
            str(path),
            "--json",
        ],
        # the same, with its compiled parts turned off (as without a C compiler at install)
        "ddi-bot, nothing compiled": [sys.executable, "-c", _NOT_COMPILED, str(path)],
        "scapy RawPcapReader loop": [sys.executable, "-c", _SCAPY_LOOP, str(path)],
        "capinfos": [capinfos, str(path)] if capinfos else None,
        "tshark -z io,phs": [tshark, "-q", "-n", "-r", str(path), "-z", "io,phs"]
        if tshark
        else None,
        "cat": ["sh", "-c", f"exec cat '{path}' >/dev/null"],
    }


def main() -> None:
    if sys.argv[1:2] == ["--generate"]:
        generate(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 packets, ddi-bot and cat only")
    parser.add_argument(
        "--format",
        choices=("pcap", "pcap-big-ns", "pcapng"),
        default="pcap",
        help="pcap: little-endian, microseconds; pcap-big-ns: big-endian, nanoseconds",
    )
    parser.add_argument("--dir", type=Path, help="where to write the capture (default: temp)")
    parser.add_argument("--only", help="time only the tools whose name contains this")
    args = parser.parse_args()
    packets = 50_000 if args.quick else args.packets
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # as a user runs it: bytecode cached after the warm-up (pip writes it for an installed
    # package), not every module compiled again at each start
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / ("span.pcapng" if args.format == "pcapng" else "span.pcap")
        started = time.perf_counter()
        # In a process of its own: the frames it holds would otherwise stay in this process,
        # and a child's peak RSS counts the memory of the process that started it.
        subprocess.run(
            [sys.executable, __file__, "--generate", str(path), str(packets), args.format],
            check=True,
        )
        size = path.stat().st_size
        print(
            f"SPAN-like {args.format}: {packets:,} packets, {size / 1e6:,.1f} MB "
            f"(generated in {time.perf_counter() - started:.1f} s); whole processes, "
            f"median of {RUNS} after a warm-up; {os.cpu_count()} CPUs"
        )
        print(f"{'tool':<30}{'packets/s':>14}{'seconds':>10}{'peak RSS MB':>13}")
        for name, argv in tools(path).items():
            if args.only and args.only not in name:
                continue
            if args.quick and not name.startswith(("ddi-bot", "cat")):
                continue
            if argv is None:
                print(f"{name:<30}{'not installed':>14}")
                continue
            runs = measure(argv, env)
            seconds = statistics.median(r.seconds for r in runs)
            peak = statistics.median(r.peak_mb for r in runs)
            print(f"{name:<30}{packets / seconds:>14,.0f}{seconds:>10.3f}{peak:>13,.0f}")


if __name__ == "__main__":
    main()
