"""Capture analysis on scapy-built captures with known content: link types, summary, verdicts."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.utils import PcapNgWriter, PcapWriter

from bot.capture import AnalysisOptions, Thresholds, Verdict, analyse_export
from bot.capture.texts import summary_text, verdict_text
from bot.errors import CaptureError
from bot.simulator.pcapgen import capture_zip, pcap_bytes, traffic
from bot.texts.capture import TEXTS

T0 = 1_736_500_000.0
SENSOR_IP, SENSOR_MAC = "10.20.1.5", "00:11:22:33:44:55"


def write(packets: list[Any], linktype: int = 1, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    writer = PcapWriter(buffer, linktype=linktype, sync=True, **kwargs)
    writer.write_header(None)
    for index, packet in enumerate(packets):
        if not getattr(packet, "time", None) or packet.time < T0:
            packet.time = T0 + index * 0.1
        writer.write(packet)
    writer.flush()
    return buffer.getvalue()


def mirrored(rounds: int = 3) -> list[Any]:
    return traffic(T0, T0 + 30, rounds, seed=3)  # 18 packets and 2 TCP connections a round


def test_summary_of_mirrored_traffic() -> None:
    built = mirrored()
    filename, content = capture_zip(pcap_bytes(built), T0)
    analysis = analyse_export(content, filename)
    s = analysis.summary
    assert (s.packets, s.bytes, s.captured_bytes) == (54, sum(map(len, built)), s.bytes)
    assert s.first_ts == pytest.approx(float(built[0].time), abs=1e-6)
    assert s.duration_s == pytest.approx(float(built[-1].time - built[0].time), abs=1e-5)
    assert s.network == {"ipv4": 54, "ipv6": 0, "arp": 0, "other": 0}
    assert s.transport["tcp"] == 48 and s.transport["udp"] == 6
    assert s.tcp_connections == 6 and s.one_sided_connections == 0
    assert sum(s.timeline) == 54 and s.bucket_s == 1.0
    assert s.top_talkers[0].address in {"10.20.1.15", "10.20.1.22"}
    assert s.top_conversations[0].packets == 24
    assert analysis.verdict is Verdict.RECEIVING
    assert analysis.reasons[0].code == "receiving"
    assert s.capture_summary().packets == 54 and s.receiving_traffic


@pytest.mark.parametrize(
    ("name", "linktype", "frame", "vlans"),
    [
        ("ethernet", 1, lambda p: Ether() / p, {}),
        ("802.1Q", 1, lambda p: Ether() / Dot1Q(vlan=42) / p, {42: 1}),
        ("QinQ", 1, lambda p: Ether() / Dot1AD(vlan=100) / Dot1Q(vlan=7) / p, {7: 1, 100: 1}),
        ("SLL", 113, lambda p: CookedLinux(proto=0x0800) / p, {}),
        ("SLL2", 276, lambda p: CookedLinuxV2(proto=0x0800) / p, {}),
        ("raw", 101, lambda p: p, {}),
        ("raw-ipv4", 228, lambda p: p, {}),
    ],
)
def test_link_types(name: str, linktype: int, frame: Any, vlans: dict[int, int]) -> None:
    packet = IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=443, flags="S")
    s = analyse_export(write([frame(packet)], linktype), f"{name}.pcap").summary
    assert s.network["ipv4"] == 1 and s.transport["tcp"] == 1, name
    assert s.vlans == vlans and s.unsupported_packets == 0
    assert {t.address for t in s.top_talkers} == {"10.0.0.1", "10.0.0.2"}


def test_ipv6_arp_icmp_and_extension_headers() -> None:
    from scapy.layers.inet6 import IPv6ExtHdrFragment, IPv6ExtHdrHopByHop

    packets = [
        Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(),
        Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() / TCP(),
        Ether() / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment() / TCP(),
        Ether() / ARP(),
        Ether() / IP() / ICMP(),
    ]
    s = analyse_export(write(packets), "mix.pcap").summary
    assert s.network == {"ipv4": 1, "ipv6": 3, "arp": 1, "other": 0}
    assert (s.transport["tcp"], s.transport["udp"], s.transport["icmp"]) == (2, 1, 1)
    assert s.top_talkers[0].address in {"2001:db8::1", "2001:db8::2"}


@pytest.mark.parametrize(("nano", "endianness"), [(True, "<"), (False, ">"), (True, ">")])
def test_precisions_and_byte_orders(nano: bool, endianness: str) -> None:
    built = mirrored(1)
    built[0].time = T0 + 0.123456789
    s = analyse_export(pcap_bytes(built, nano=nano, endianness=endianness), "a.pcap").summary
    assert s.packets == 18 and s.first_ts == pytest.approx(T0 + 0.123456789, abs=1e-6)
    assert s.transport["tcp"] == 16


def test_pcapng_and_truncated_snaplen(tmp_path: Path) -> None:
    writer = PcapNgWriter(str(tmp_path / "a.pcapng"))
    for packet in mirrored(1):
        writer.write(packet)
    writer.close()
    s = analyse_export(tmp_path / "a.pcapng", "a.pcapng").summary
    assert s.packets == 18 and s.transport["tcp"] == 16
    frame = bytes(Ether() / IP() / UDP() / bytes(500))
    record = struct.pack("<IIII", int(T0), 0, 64, len(frame)) + frame[:64]
    cut = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 64, 1) + record * 3
    s = analyse_export(cut, "cut.pcap").summary
    assert s.truncated_packets == 3 and s.captured_bytes == 3 * 64 and s.bytes == 3 * 542


def test_no_packets() -> None:
    analysis = analyse_export(pcap_bytes([]), "empty.pcap")
    assert analysis.verdict is Verdict.NO_PACKETS and analysis.reasons[0].code == "no_packets"


def test_too_little() -> None:
    analysis = analyse_export(pcap_bytes(mirrored(1)[:5]), "few.pcap")
    assert analysis.verdict is Verdict.TOO_LITTLE
    assert analysis.reasons[0].data["packets"] == 5
    lenient = AnalysisOptions(thresholds=Thresholds(min_packets=3))
    assert analyse_export(pcap_bytes(mirrored(1)[:5]), "f.pcap", lenient).verdict in {
        Verdict.RECEIVING
    }
    slow = AnalysisOptions(thresholds=Thresholds(min_duration_s=60))
    analysis = analyse_export(pcap_bytes(mirrored()), "short.pcap", slow)
    assert analysis.verdict is Verdict.TOO_LITTLE and analysis.reasons[0].code == "too_short"


def own_traffic(count: int = 40) -> list[Any]:
    out = []
    for i in range(count):
        up = i % 2 == 0
        ip = IP(src=SENSOR_IP, dst="10.20.0.1") if up else IP(src="10.20.0.1", dst=SENSOR_IP)
        tcp = TCP(sport=443, dport=50000 + i // 2) if up else TCP(sport=50000 + i // 2, dport=443)
        macs = (SENSOR_MAC, "02:00:00:00:00:01")
        out.append(Ether(src=macs[not up], dst=macs[up]) / ip / tcp)
    return out


@pytest.mark.parametrize(
    "options",
    [AnalysisOptions(sensor_ip=SENSOR_IP), AnalysisOptions(sensor_mac=SENSOR_MAC.upper())],
)
def test_own_traffic_only(options: AnalysisOptions) -> None:
    data = write([*own_traffic(), Ether() / ARP()])
    analysis = analyse_export(data, "own.pcap", options)
    assert analysis.verdict is Verdict.OWN_TRAFFIC_ONLY
    assert analysis.reasons[0].data == {"own": 40, "other": 0, "min": 20}  # ARP: broadcast
    assert analyse_export(data, "own.pcap").verdict is Verdict.RECEIVING  # sensor unknown


def test_own_traffic_does_not_hide_mirrored_traffic() -> None:
    data = write(own_traffic() + mirrored())
    analysis = analyse_export(data, "both.pcap", AnalysisOptions(sensor_ip=SENSOR_IP))
    assert analysis.verdict is Verdict.RECEIVING and analysis.summary.own_packets == 40


def test_one_direction_only() -> None:
    up_only = [p for p in mirrored(4) if p[IP].src.startswith("10.20.1.")]
    analysis = analyse_export(pcap_bytes(up_only), "span.pcap")
    s = analysis.summary
    assert analysis.verdict is Verdict.ONE_DIRECTION
    assert s.tcp_connections == s.one_sided_connections == 8
    assert analysis.reasons[0].data["percent"] == 100.0
    assert s.one_sided_examples[0].src.startswith("10.20.1.")
    assert "→" in verdict_text(analysis, "en")


def test_unsupported_link_type_is_not_guessed() -> None:
    data = write([Ether() / IP() / TCP()] * 30, linktype=105)  # 802.11: not decoded
    analysis = analyse_export(data, "wifi.pcap")
    assert analysis.verdict is Verdict.UNSUPPORTED
    assert analysis.summary.link_types == {"linktype 105": 30}
    assert analysis.summary.network["ipv4"] == 0


def test_json_round_trip() -> None:
    analysis = analyse_export(pcap_bytes(mirrored()), "a.pcap")
    data = json.loads(analysis.to_json())
    assert data["verdict"] == "receiving" and data["summary"]["packets"] == 54
    assert data["reasons"][0]["code"] == "receiving"


def test_texts_have_both_languages_and_escape_packet_data() -> None:
    assert all(set(entry) == {"en", "ja"} for entry in TEXTS.values())
    analysis = analyse_export(pcap_bytes(mirrored()), "<!channel>&.pcap")
    for lang in ("en", "ja"):
        rendered = summary_text(analysis, lang) + verdict_text(analysis, lang)
        assert "<" not in rendered and ">" not in rendered.replace("→", "")
        assert "&lt;!channel&gt;&amp;" in rendered
    assert "受信しています" in verdict_text(analysis, "ja")


def test_bad_sensor_address_is_a_capture_error() -> None:
    with pytest.raises(CaptureError, match="sensor"):
        analyse_export(pcap_bytes([]), "a.pcap", AnalysisOptions(sensor_ip="10.0.0.300"))


def _handshakes(count: int) -> list[Any]:
    """``count`` answered TCP exchanges (both directions, ACK set) between other hosts."""
    out: list[Any] = []
    for i in range(count):
        client, server = f"10.30.0.{i % 200 + 1}", "10.30.1.1"
        out.append(
            Ether() / IP(src=client, dst=server) / TCP(sport=30000 + i, dport=443, flags="A")
        )
        out.append(
            Ether() / IP(src=server, dst=client) / TCP(sport=443, dport=30000 + i, flags="A")
        )
    return out


def _syn_probes(count: int) -> list[Any]:
    """Unanswered SYNs, as a port scan or a closed service produces."""
    return [
        Ether() / IP(src="10.9.9.9", dst=f"10.30.2.{i % 250 + 1}") / TCP(sport=55555, dport=i + 1)
        for i in range(count)
    ]


def test_unanswered_syns_are_not_mistaken_for_a_half_span() -> None:
    scanned = analyse_export(write(_handshakes(50) + _syn_probes(600)), "scan.pcap")
    assert scanned.verdict is Verdict.RECEIVING
    only_syns = analyse_export(write(_syn_probes(300)), "syns.pcap")
    assert only_syns.verdict is not Verdict.ONE_DIRECTION


def test_a_single_own_packet_does_not_make_it_own_traffic_only() -> None:
    few = own_traffic(1) + [Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP()] * 15
    analysis = analyse_export(write(few), "few.pcap", AnalysisOptions(sensor_ip=SENSOR_IP))
    assert analysis.verdict is Verdict.TOO_LITTLE


def test_broadcasts_from_other_hosts_are_not_mirrored_traffic() -> None:
    """A port with no mirror still hears ARP and STP: they prove nothing about the SPAN."""
    broadcasts = [
        Ether(src=f"02:00:00:00:01:{i:02x}", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc=f"10.0.0.{i}")
        for i in range(1, 41)
    ] + [Ether(src="02:00:00:00:02:01", dst="01:80:c2:00:00:00") / bytes(40) for _ in range(30)]
    options = AnalysisOptions(sensor_ip=SENSOR_IP)
    mixed = analyse_export(write(own_traffic() + broadcasts), "mixed.pcap", options)
    assert mixed.verdict is Verdict.OWN_TRAFFIC_ONLY
    only = analyse_export(write(broadcasts), "bcast.pcap", options)
    assert only.verdict is Verdict.TOO_LITTLE
    assert only.summary.packets == 70 and only.summary.mirrored_packets == 0
