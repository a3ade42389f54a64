"""Capture analysis speed and memory: ddi-bot's analyser beside scapy's readers, same files.

Generates a pcap of realistic mirrored traffic (TCP both ways, DNS, ARP, some VLAN tags; about
700 bytes per packet on average) in a temporary directory, then runs each reader in its own
subprocess and reports packets/s and peak memory (ru_maxrss of that subprocess).

    .venv/bin/python benchmarks/capture_speed.py                    # 200,000 packets (~2 min)
    .venv/bin/python benchmarks/capture_speed.py --packets 1000000  # the issue's 1M (~700 MB)

scapy's readers are slow, so they read only the first ``--scapy-packets`` packets and their
rate is extrapolated (said so in the output).
"""

from __future__ import annotations

import argparse
import json
import random
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (imports, timed body): imports are not timed for any reader, so that the figures compare
# reading speed, not how long numpy or scapy take to import.
_CHILD = {
    "ddi-bot": (
        "from pathlib import Path\nfrom bot.capture.analyse import analyse_path",
        "a = analyse_path(Path(PATH))\nn = a.summary.packets",
    ),
    "scapy PcapReader": (
        "from scapy.utils import PcapReader",
        """n = 0
with PcapReader(PATH) as reader:
    for packet in reader:
        n += 1
        if n >= LIMIT:
            break""",
    ),
    "scapy RawPcapReader": (
        "from scapy.utils import RawPcapReader",
        """n = 0
with RawPcapReader(PATH) as reader:
    for data, meta in reader:
        n += 1
        if n >= LIMIT:
            break""",
    ),
}
_WRAP = """
import json, resource, sys, time
PATH, LIMIT = sys.argv[1], int(sys.argv[2])
{imports}
start = time.perf_counter()
{body}
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"packets": n, "seconds": elapsed, "peak_mb": peak}}))
"""


def _ether(src: int, dst: int, vlan: int | None, ethertype: int) -> bytes:
    head = struct.pack("!6s6s", dst.to_bytes(6, "big"), src.to_bytes(6, "big"))
    if vlan is not None:
        head += struct.pack("!HH", 0x8100, vlan)
    return head + struct.pack("!H", ethertype)


def _ipv4(src: int, dst: int, proto: int, payload: bytes) -> bytes:
    header = struct.pack("!BBHHHBBHII", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, src, dst)
    return header + payload


def _templates(rng: random.Random, flows: int) -> list[bytes]:
    """Packets of many conversations, both directions; sizes mix ACKs and full frames."""
    out: list[bytes] = []
    for i in range(flows):
        client, server = 0x0A140000 + rng.randrange(1, 4000), 0xAC100000 + rng.randrange(1, 200)
        cmac, smac = 0x005056A10000 + (client & 0xFFFF), 0x001B213A4F01
        cport, sport = rng.randrange(49152, 65535), rng.choice((443, 445, 80, 8080))
        vlan = rng.choice((None, None, 10, 20))
        for up, size in ((True, 0), (False, 1400), (True, 0), (False, 1400), (False, 600)):
            s, d, sp, dp = (client, server, cport, sport) if up else (server, client, sport, cport)
            tcp = struct.pack("!HHIIBBHHH", sp, dp, i, i, 0x50, 0x10, 65535, 0, 0)
            frame = _ether(cmac if up else smac, smac if up else cmac, vlan, 0x0800)
            out.append(frame + _ipv4(s, d, 6, tcp + bytes(size)))
        if i % 10 == 0:
            udp = struct.pack("!HHHH", cport, 53, 8 + 40, 0) + bytes(40)
            out.append(_ether(cmac, smac, vlan, 0x0800) + _ipv4(client, 0x0A140035, 17, udp))
        if i % 50 == 0:
            out.append(_ether(cmac, 0xFFFFFFFFFFFF, vlan, 0x0806) + bytes(28))
    return out


def generate(path: Path, packets: int, seed: int = 1) -> int:
    """Write ``packets`` packets to a classic pcap; returns the file size."""
    rng = random.Random(seed)
    templates = _templates(rng, 2000)
    record = struct.Struct("<IIII")
    start = 1_736_500_000
    with path.open("wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        batch: list[bytes] = []
        for i in range(packets):
            frame = templates[i % len(templates)]
            usec = i * 37
            batch.append(
                record.pack(start + usec // 1_000_000, usec % 1_000_000, len(frame), len(frame))
            )
            batch.append(frame)
            if len(batch) >= 20_000:
                out.write(b"".join(batch))
                batch.clear()
        out.write(b"".join(batch))
    return path.stat().st_size


def measure(name: str, path: Path, limit: int) -> dict[str, float]:
    imports, body = _CHILD[name]
    code = _WRAP.format(imports=imports, body=body)
    done = subprocess.run(
        [sys.executable, "-c", code, str(path), str(limit)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packets", type=int, default=200_000)
    parser.add_argument("--scapy-packets", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, help="where to write the capture (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.pcap"
        started = time.perf_counter()
        size = generate(path, args.packets)
        print(
            f"generated {args.packets:,} packets, {size / 1e6:,.0f} MB "
            f"in {time.perf_counter() - started:.0f} s: {path}"
        )
        print(f"{'reader':<22}{'packets read':>14}{'packets/s':>14}{'peak MB':>10}  note")
        for name in _CHILD:
            limit = args.packets if name == "ddi-bot" else min(args.scapy_packets, args.packets)
            r = measure(name, path, limit)
            rate = r["packets"] / r["seconds"]
            note = "whole file, full analysis" if name == "ddi-bot" else (
                f"first {int(r['packets']):,} packets only; rate extrapolated"
            )  # fmt: skip
            print(f"{name:<22}{int(r['packets']):>14,}{rate:>14,.0f}{r['peak_mb']:>10,.0f}  {note}")


if __name__ == "__main__":
    main()
