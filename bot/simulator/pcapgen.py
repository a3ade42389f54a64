"""Real pcap files, built with scapy, shaped like a DDI console capture export.

Everything here is synchronous and CPU-bound: async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import random
import time
import zipfile
from typing import Any

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter

_GATEWAY_MAC = "00:1b:21:3a:4f:01"
# (client ip, client mac, server ip, server port): hosts on the mirrored segment, not the sensor.
_CONVERSATIONS = (
    ("10.20.1.15", "00:50:56:a1:10:15", "10.20.9.40", 443),
    ("10.20.1.22", "00:50:56:a1:10:22", "172.16.5.10", 445),
    ("10.20.1.31", "00:50:56:a1:10:31", "10.20.0.53", 53),
)


def _tcp_exchange(rng: random.Random, client: tuple[str, str, str, int]) -> list[Any]:
    cip, cmac, sip, sport = client
    cport, cseq, sseq = rng.randint(49152, 65535), rng.getrandbits(32), rng.getrandbits(32)
    up = Ether(src=cmac, dst=_GATEWAY_MAC) / IP(src=cip, dst=sip)
    down = Ether(src=_GATEWAY_MAC, dst=cmac) / IP(src=sip, dst=cip)
    request, reply = b"\x16\x03\x01" + rng.randbytes(60), rng.randbytes(400)
    return [
        up / TCP(sport=cport, dport=sport, flags="S", seq=cseq),
        down / TCP(sport=sport, dport=cport, flags="SA", seq=sseq, ack=cseq + 1),
        up / TCP(sport=cport, dport=sport, flags="A", seq=cseq + 1, ack=sseq + 1),
        up / TCP(sport=cport, dport=sport, flags="PA", seq=cseq + 1, ack=sseq + 1) / request,
        down / TCP(sport=sport, dport=cport, flags="PA", seq=sseq + 1, ack=cseq + 61) / reply,
        up / TCP(sport=cport, dport=sport, flags="FA", seq=cseq + 61, ack=sseq + 401),
        down / TCP(sport=sport, dport=cport, flags="FA", seq=sseq + 401, ack=cseq + 62),
        up / TCP(sport=cport, dport=sport, flags="A", seq=cseq + 62, ack=sseq + 402),
    ]


def _dns_exchange(rng: random.Random, client: tuple[str, str, str, int]) -> list[Any]:
    cip, cmac, sip, sport = client
    cport, qid = rng.randint(49152, 65535), rng.getrandbits(16)
    name = rng.choice(["intranet.example.co.jp", "mail.example.co.jp", "update.example.com"])
    up = Ether(src=cmac, dst=_GATEWAY_MAC) / IP(src=cip, dst=sip) / UDP(sport=cport, dport=sport)
    down = Ether(src=_GATEWAY_MAC, dst=cmac) / IP(src=sip, dst=cip) / UDP(sport=sport, dport=cport)
    return [
        up / DNS(id=qid, rd=1, qd=DNSQR(qname=name)),
        down / DNS(id=qid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name)),
    ]


def traffic(start: float, end: float, rounds: int, seed: int = 0) -> list[Any]:
    """``rounds`` of TCP and DNS conversations, timestamped evenly across ``[start, end]``."""
    rng = random.Random(seed)
    packets: list[Any] = []
    for _ in range(max(rounds, 0)):
        packets += _tcp_exchange(rng, _CONVERSATIONS[0])
        packets += _dns_exchange(rng, _CONVERSATIONS[2])
        packets += _tcp_exchange(rng, _CONVERSATIONS[1])
    step = (end - start) / max(len(packets), 1)
    for index, packet in enumerate(packets):
        packet.time = start + index * step + rng.uniform(0, step / 2)
    return packets


def pcap_bytes(packets: list[Any], *, nano: bool = False, endianness: str = "") -> bytes:
    """A classic pcap file (Ethernet); with no packets, just the 24-byte global header."""
    buffer = io.BytesIO()
    writer = PcapWriter(buffer, linktype=1, nano=nano, endianness=endianness, sync=True)
    writer.write_header(None)
    for packet in packets:
        writer.write(packet)
    writer.flush()
    return buffer.getvalue()


def capture_zip(
    pcap: bytes, when: float | None = None, interface: str = "eth1"
) -> tuple[str, bytes]:
    """(filename, zip bytes) as the console's capture export names and packs them."""
    stamp = time.strftime("%Y%m%d_%H%M%S", time.localtime(time.time() if when is None else when))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{interface}.pcap", pcap)
    return f"capture_{interface}_{stamp}.zip", buffer.getvalue()


def simulated_capture(
    start: float, end: float, has_traffic: bool, seed: int = 0
) -> tuple[str, bytes]:
    """The export of a capture that ran from ``start`` to ``end`` (epoch seconds).

    A mirror port is busy: the same 20 rounds (360 packets) however short the capture, so the
    analysis has enough to judge even in the demo's one-second capture.
    """
    rounds = 20 if has_traffic else 0
    return capture_zip(pcap_bytes(traffic(start, end, rounds, seed)), end)
