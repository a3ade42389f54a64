"""Syslog receiver speed over loopback: messages/s parsed and counted, and loss at a steady rate.

The receiver runs in a child process (this script with ``--serve``), the sender in this one.

1. Max rate: ``--messages`` realistic DDI detections (CEF, TMEF, LEEF; RFC 3164 and 5424
   headers; a few non-detection events) are blasted over TCP (LF and octet-counted framing) and
   over UDP. The receiver times itself from its first to its last message; the median of
   ``--repeat`` runs is shown. Beside each figure, a baseline: the same sockets and de-framing,
   messages only counted, not parsed. UDP senders outrun the receiver, so most datagrams are
   dropped by the kernel: the figure is what the receiver got through while saturated.
2. Sustained: ``--rate`` messages/s over UDP for ``--seconds``, paced in batches every 10 ms;
   sent vs counted by the receiver.

    .venv/bin/python benchmarks/syslog_rate.py
    .venv/bin/python benchmarks/syslog_rate.py --messages 500000 --rate 20000 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.syslog import DetectionCounter, MinuteCount, SyslogIndex, SyslogReceiver  # noqa: E402

APPLIANCES = [
    ("ddi-tokyo", "ddi-tokyo.example.co.jp", "6B593E17-AFB7-40FB-BB28-A4CE0462A536", "10.1.0.11"),
    ("ddi-osaka", "ddi-osaka.example.co.jp", "0F3C29D1-6E0A-4D6B-9C52-77E1A0B4C8F2", "10.2.0.11"),
    ("ddi-nagoya", "ddi-nagoya.example.co.jp", "9A1E4B70-2C55-4F0D-8E3B-1D6F27C90A44", "10.3.0.11"),
]
RULES = [
    (20, "Malware URL requested - Type 1", 2),
    (8, "Packed executable file copied to a network administrative share", 1),
    (1834, "SMB2 Remote Code Execution Exploit - CVE-2017-0144", 4),
    (131, "Suspicious DNS query - 不審なドメインへの問い合わせ", 3),
]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _rt(t: float) -> str:
    """DDI's ``rt``: local time (JST here) with its offset."""
    g = time.gmtime(t + 9 * 3600)
    clock = time.strftime("%H:%M:%S", g)
    return f"{MONTHS[g.tm_mon - 1]} {g.tm_mday:02d} {g.tm_year} {clock} GMT+09:00"


def _messages(n: int, seed: int = 7) -> list[bytes]:
    """``n`` messages; about 2 % are system events the receiver must ignore."""
    rng = random.Random(seed)
    start = time.time()
    out: list[bytes] = []
    for i in range(n):
        _name, host, guid, ip = APPLIANCES[i % len(APPLIANCES)]
        rule, title, threat = RULES[rng.randrange(len(RULES))]
        t = start + i * 0.001
        src, dst = (
            f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
            "203.0.113.7",
        )
        stamp = time.strftime("%b %d %H:%M:%S", time.localtime(t))
        kind = i % 50
        if kind == 49:
            body = (
                f"CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|300999|SYSTEM_EVENT|3|"
                f"rt={_rt(t)} dvc={ip} dvchost={host} deviceExternalId={guid} msg=Scheduled update"
            )
        elif kind % 3 == 0:
            body = (
                f"LEEF:1.0|Trend Micro|Deep Discovery Inspector|6.7.1164|SECURITY_RISK_DETECTION|"
                f"devTime={_rt(t)}\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsev=6\tdvc={ip}\t"
                f"dvchost={host}\tdeviceGUID={guid}\tthreatType={threat}\truleId={rule}\t"
                f"ptype=IDS\tsrc={src}\tsrcPort={rng.randrange(1024, 65535)}\tdst={dst}\t"
                f"dstPort=443\tproto=HTTPS\tmsg={title}\tcnt=1\taggregatedCnt=1\tpComp=NCIE"
            )
            iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t))
            out.append(f"<134>1 {iso}.{i % 1000:03d}Z {host} ddi - - - {body}".encode())
            continue
        else:
            tmef = kind % 3 == 1
            guid_key = "deviceGUID" if tmef else "deviceExternalId"
            label = "cn4Label=Deep Discovery_ThreatType cn4" if tmef else "cn3Label=ThreatType cn3"
            body = (
                f"CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|{rule}|{title}|6|"
                f"rt={_rt(t)} {label}={threat} dvc={ip} dvchost={host} {guid_key}={guid} "
                f"deviceMacAddress=00:0C:29:6E:CB:F9 deviceDirection=1 cnt=1 act=not blocked "
                f"app=HTTP shost=pc-{i % 900:03d} src={src} spt={rng.randrange(1024, 65535)} "
                f"dst={dst} dpt=80 request=http://bad.example/dl?id\\={i}&t\\=x "
                f"cs1Label=PolicyCategory cs1=Reputation msg={title} "
                f"fileHash=1EDD5B38DE4729545767088C5CAB395E4197C8F3 fname=setup.exe"
            )
        out.append(f"<134>{stamp} {host.split('.')[0]} {body}".encode())
    return out


# --- receiver (child process) -------------------------------------------------------------


class Timed:
    """Wraps a handler: first and last receive time, messages seen."""

    def __init__(self, inner: Any, expected: int) -> None:
        self.inner, self.expected = inner, expected
        self.first = 0.0
        self.last = 0.0
        self.n = 0

    def handle(self, frame: bytes, sender: str, received_at: float) -> None:
        if not self.n:
            self.first = received_at
        self.inner.handle(frame, sender, received_at)
        self.n += 1
        self.last = received_at if self.n < self.expected else time.time()

    def reject(self, n: int) -> None:
        self.inner.reject(n)

    def admits(self, sender: str) -> bool:
        return bool(self.inner.admits(sender))


class CountOnly:
    """Baseline: frames arrive through the same sockets and de-framing, nothing is parsed."""

    def __init__(self) -> None:
        self.counter = DetectionCounter()

    def handle(self, frame: bytes, sender: str, received_at: float) -> None:
        self.counter.ignore()

    def reject(self, n: int) -> None:
        self.counter.reject(n)

    def admits(self, sender: str) -> bool:
        return True


async def _serve(mode: str, expected: int, idle: float) -> None:
    index = SyslogIndex([(name, [host, guid, ip]) for name, host, guid, ip in APPLIANCES])

    async def sink(counts: Sequence[MinuteCount]) -> None:
        return None

    receiver = SyslogReceiver(index, sink, host="127.0.0.1", udp_port=0, tcp_port=0,
                              flush_interval=3600)  # fmt: skip
    inner: Any = receiver.handler if mode == "parse" else CountOnly()
    timed = Timed(inner, expected)
    receiver.handler = timed
    async with receiver:
        print(json.dumps({"udp": receiver.udp_port, "tcp": receiver.tcp_port,
                          "rcvbuf": receiver.udp_rcvbuf}), flush=True)  # fmt: skip
        seen, quiet = -1, 0.0
        while timed.n < expected:
            await asyncio.sleep(0.05)
            quiet = quiet + 0.05 if timed.n == seen else 0.0
            seen = timed.n
            if seen and quiet >= idle:
                break
        counter = inner.counter
        stats = counter.stats() if hasattr(counter, "stats") else None
    elapsed = max(timed.last - timed.first, 1e-9)
    print(json.dumps({
        "messages": timed.n, "seconds": elapsed, "rate": timed.n / elapsed,
        "counted": stats.counted if stats else 0, "ignored": stats.ignored if stats else 0,
        "bad": stats.bad if stats else 0, "unknown": stats.unknown_sender if stats else 0,
    }), flush=True)  # fmt: skip


# --- sender (this process) ----------------------------------------------------------------


def _start(mode: str, expected: int, idle: float) -> tuple[subprocess.Popen[str], dict[str, int]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", mode, "--expect", str(expected), "--idle", str(idle)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    ports: dict[str, int] = json.loads(child.stdout.readline())
    return child, ports


def _finish(child: subprocess.Popen[str]) -> dict[str, float]:
    assert child.stdout is not None
    result: dict[str, float] = json.loads(child.stdout.readline())
    child.wait(timeout=30)
    return result


def _send_tcp(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        view = memoryview(payload)
        for i in range(0, len(payload), 1 << 18):
            sock.sendall(view[i : i + (1 << 18)])


def _send_udp(port: int, messages: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", port))
        send = sock.send
        for m in messages:
            with contextlib.suppress(OSError):  # ENOBUFS under pressure: that one is lost
                send(m)


def max_rate(messages: list[bytes], transport: str, mode: str) -> dict[str, float]:
    n = len(messages)
    child, ports = _start(mode, n, idle=1.0)
    try:
        if transport == "udp":
            _send_udp(ports["udp"], messages)
        else:
            if transport == "tcp-octet":
                payload = b"".join(b"%d %s" % (len(m), m) for m in messages)
            else:
                payload = b"\n".join(messages) + b"\n"
            _send_tcp(ports["tcp"], payload)
        return _finish(child)
    finally:
        child.kill()


def sustained(messages: list[bytes], rate: int, seconds: float) -> tuple[int, dict[str, float]]:
    total = int(rate * seconds)
    batch = max(1, rate // 100)  # one batch every 10 ms
    child, ports = _start("parse", total, idle=2.0)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("127.0.0.1", ports["udp"]))
            sent, start = 0, time.perf_counter()
            while sent < total:
                for _ in range(min(batch, total - sent)):
                    sock.send(messages[sent % len(messages)])
                    sent += 1
                delay = start + sent / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            achieved = sent / (time.perf_counter() - start)
        result = _finish(child)
        result["send_rate"] = achieved
        result["rcvbuf"] = ports["rcvbuf"]
        return sent, result
    finally:
        child.kill()


def _median(runs: Iterable[dict[str, float]]) -> dict[str, float]:
    ordered = sorted(runs, key=lambda r: r["rate"])
    return ordered[len(ordered) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3, help="max-rate runs; the median is shown")
    parser.add_argument("--serve", choices=("parse", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--idle", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve, args.expect, args.idle))
        return
    messages = _messages(args.messages)
    size = sum(map(len, messages)) / len(messages)
    print(
        f"{len(messages):,} messages, {size:.0f} bytes on average; receiver on one core; "
        f"median of {args.repeat} runs"
    )
    print(f"{'transport':<11}{'received':>10}{'parsed msg/s':>14}{'baseline msg/s':>16}"
          f"{'parse µs/msg':>14}  counted/ignored/bad")  # fmt: skip
    for transport in ("tcp-lf", "tcp-octet", "udp"):
        parsed = _median(max_rate(messages, transport, "parse") for _ in range(args.repeat))
        base = _median(max_rate(messages, transport, "baseline") for _ in range(args.repeat))
        cost = (1 / parsed["rate"] - 1 / base["rate"]) * 1e6
        print(
            f"{transport:<11}{int(parsed['messages']):>10,}{parsed['rate']:>14,.0f}"
            f"{base['rate']:>16,.0f}{cost:>14.1f}  "
            f"{int(parsed['counted']):,}/{int(parsed['ignored']):,}/{int(parsed['bad']):,}"
        )
    sent, r = sustained(messages, args.rate, args.seconds)
    received = int(r["messages"])
    print(
        f"sustained UDP {args.rate:,}/s for {args.seconds:g} s (sent at {r['send_rate']:,.0f}/s): "
        f"sent {sent:,}, received {received:,}, counted {int(r['counted']):,}, "
        f"ignored {int(r['ignored']):,}, lost {sent - received:,} ({(sent - received) / sent:.2%})"
    )
    print(f"UDP receive buffer as the kernel reports it: {r['rcvbuf'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
