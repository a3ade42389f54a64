"""Capture analysis texts in English and Japanese, and pure functions rendering an analysis.

Output is Slack mrkdwn; everything taken from the capture is escaped (``&``, ``<``, ``>``).
"""

from __future__ import annotations

import re
import time
from typing import Any

from bot.capture.model import Analysis, Reason

TEXTS: dict[str, dict[str, str]] = {
    "verdict.receiving": {
        "en": ":white_check_mark: *The sensor receives mirrored traffic.*",
        "ja": ":white_check_mark: *センサーはミラートラフィックを受信しています。*",
    },
    "verdict.no_packets": {
        "en": ":x: *No packets at all.* Check the mirror (SPAN/TAP) port and the cables.",
        "ja": ":x: *パケットがまったくありません。* "
        "ミラー (SPAN/TAP) ポートとケーブルを確認してください。",
    },
    "verdict.own_traffic_only": {
        "en": ":x: *Only the sensor's own traffic.* The mirror is not delivering traffic.",
        "ja": ":x: *センサー自身の通信しかありません。* ミラーがトラフィックを届けていません。",
    },
    "verdict.one_direction": {
        "en": ":warning: *Traffic in one direction only.* The SPAN looks half-configured "
        "(only ingress or only egress is mirrored).",
        "ja": ":warning: *片方向のトラフィックしかありません。* SPAN の設定が片側"
        "(受信のみ または 送信のみ)になっている可能性があります。",
    },
    "verdict.too_little": {
        "en": ":grey_question: *Too little traffic to judge.* Capture for longer and try again.",
        "ja": ":grey_question: *判断するにはトラフィックが少なすぎます。* "
        "より長くキャプチャしてから再度お試しください。",
    },
    "verdict.unsupported": {
        "en": ":grey_question: *Packets arrived, but their link type is not supported*, "
        "so their content cannot be judged.",
        "ja": ":grey_question: *パケットはありますが、リンク種別に対応していない*"
        "ため内容を判断できません。",
    },
    "reason.receiving": {
        "en": "{packets} packets from other hosts over {duration_s} s (about {pps} packets/s).",
        "ja": "他のホストのパケット {packets} 件 / {duration_s} 秒 (約 {pps} パケット/秒)。",
    },
    "reason.no_packets": {
        "en": "The export holds {files} capture file(s) and no packets.",
        "ja": "エクスポートにはキャプチャファイルが {files} 個あり、パケットは 0 件です。",
    },
    "reason.own_traffic": {
        "en": "{own} packets to or from the sensor itself, only {other} from other hosts "
        "(at least {min} needed).",
        "ja": "センサー自身の送受信が {own} 件、他のホストは {other} 件のみです "
        "(必要数 {min} 件以上)。",
    },
    "reason.too_little": {
        "en": "{packets} packets from other hosts over {duration_s} s; "
        "at least {min_packets} are needed.",
        "ja": "他のホストのパケットは {duration_s} 秒で {packets} 件です。"
        "判断には {min_packets} 件以上が必要です。",
    },
    "reason.too_short": {
        "en": "The capture lasts {duration_s} s; at least {min_duration_s} s are needed.",
        "ja": "キャプチャ時間は {duration_s} 秒です。{min_duration_s} 秒以上が必要です。",
    },
    "reason.one_direction": {
        "en": "{one_sided} of {connections} TCP connections ({percent}%) show one side only.",
        "ja": "TCP 接続 {connections} 件のうち {one_sided} 件 ({percent}%) で片側しか見えません。",
    },
    "reason.both_directions": {
        "en": "{one_sided} of {connections} TCP connections ({percent}%) show one side only; "
        "the rest show both.",
        "ja": "TCP 接続 {connections} 件のうち片側のみは {one_sided} 件 ({percent}%) で、"
        "残りは双方向です。",
    },
    "reason.few_tcp": {
        "en": "Only {connections} TCP connection(s): direction not judged.",
        "ja": "TCP 接続が {connections} 件のみのため、方向は判断していません。",
    },
    "reason.unsupported_link": {
        "en": "{packets} packets on link type(s) {link_types}.",
        "ja": "{packets} 件のパケットのリンク種別: {link_types}。",
    },
    "reason.some_unsupported": {
        "en": "{packets} packets on unsupported link types were only counted.",
        "ja": "対応していないリンク種別のパケット {packets} 件は件数のみ数えました。",
    },
    "reason.sensor_unknown": {
        "en": "The sensor's address is not configured, so its own traffic was not told apart.",
        "ja": "センサーのアドレスが未設定のため、センサー自身の通信を区別していません。",
    },
    "reason.partial": {
        "en": "The capture is damaged; only what could be read was analysed ({detail}).",
        "ja": "キャプチャが破損しているため、読めた部分のみ分析しました ({detail})。",
    },
    "summary.head": {
        "en": "*Capture summary* — `{files}`: {packets} packets, {bytes} bytes, {duration} s "
        "({first} → {last})",
        "ja": "*キャプチャ概要* — `{files}`: {packets} パケット、{bytes} バイト、{duration} 秒 "
        "({first} → {last})",
    },
    "summary.protocols": {
        "en": "Protocols: IPv4 {ipv4}, IPv6 {ipv6}, ARP {arp}, other {other} / "
        "TCP {tcp}, UDP {udp}, ICMP {icmp}",
        "ja": "プロトコル: IPv4 {ipv4}、IPv6 {ipv6}、ARP {arp}、その他 {other} / "
        "TCP {tcp}、UDP {udp}、ICMP {icmp}",
    },
    "summary.talkers": {"en": "Top talkers: {items}", "ja": "通信量の多いホスト: {items}"},
    "summary.conversations": {"en": "Top conversations: {items}", "ja": "主な通信: {items}"},
    "summary.vlans": {"en": "VLANs: {items}", "ja": "VLAN: {items}"},
    "summary.truncated": {
        "en": "{count} packets truncated by the snapshot length.",
        "ja": "{count} 件のパケットがスナップ長で切り詰められています。",
    },
    "summary.examples": {"en": "One-sided examples: {items}", "ja": "片側のみの例: {items}"},
    "summary.approximate": {
        "en": "(very many hosts: top lists are estimates)",
        "ja": "(ホストが非常に多いため上位リストは概算です)",
    },
}


def escape(text: object) -> str:
    """Make text from outside safe inside mrkdwn: no links, mentions or entities, and no
    backtick or control character to leave a code span or start a line of its own."""
    flat = _UNSAFE.sub("?", str(text))
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_UNSAFE = re.compile(r"[\x00-\x1f\x7f`]")


def text(key: str, lang: str, **params: Any) -> str:
    """One message in ``lang`` (English if unknown), parameters escaped."""
    entry = TEXTS[key]
    template = entry.get(lang, entry["en"])
    return template.format(**{k: escape(v) for k, v in params.items()})


def reason_text(reason: Reason, lang: str) -> str:
    key = f"reason.{reason.code}"
    if key not in TEXTS:
        return escape(reason.code)
    try:
        return text(key, lang, **reason.data)
    except (KeyError, IndexError, ValueError):
        return escape(reason.code)


def _when(ts: float | None) -> str:
    if ts is None:
        return "-"
    try:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + "Z"
    except (OverflowError, OSError, ValueError):
        return f"{ts:.0f}"


def summary_text(analysis: Analysis, lang: str = "en") -> str:
    """The capture summary as mrkdwn lines."""
    s = analysis.summary
    lines = [
        text(
            "summary.head",
            lang,
            files=", ".join(s.files),
            packets=f"{s.packets:,}",
            bytes=f"{s.bytes:,}",
            duration=f"{s.duration_s:.1f}",
            first=_when(s.first_ts),
            last=_when(s.last_ts),
        ),
        text(
            "summary.protocols",
            lang,
            **s.network,
            tcp=s.transport.get("tcp", 0),
            udp=s.transport.get("udp", 0),
            icmp=s.transport.get("icmp", 0),
        ),
    ]
    if s.top_talkers:
        items = ", ".join(f"{t.address} ({t.packets:,})" for t in s.top_talkers[:5])
        lines.append(text("summary.talkers", lang, items=items))
    if s.top_conversations:
        items = ", ".join(f"{c.a} ↔ {c.b} ({c.packets:,})" for c in s.top_conversations[:5])
        lines.append(text("summary.conversations", lang, items=items))
    if s.vlans:
        items = ", ".join(f"{vid} ({count:,})" for vid, count in list(s.vlans.items())[:10])
        lines.append(text("summary.vlans", lang, items=items))
    if s.truncated_packets:
        lines.append(text("summary.truncated", lang, count=f"{s.truncated_packets:,}"))
    if s.approximate:
        lines.append(text("summary.approximate", lang))
    return "\n".join(lines)


def verdict_text(analysis: Analysis, lang: str = "en") -> str:
    """The verdict and its reasons as mrkdwn (a bulleted list)."""
    lines = [text(f"verdict.{analysis.verdict.value}", lang)]
    lines += [f"• {reason_text(reason, lang)}" for reason in analysis.reasons]
    examples = analysis.summary.one_sided_examples
    if analysis.verdict.value == "one_direction" and examples:
        items = ", ".join(f"{e.src} → {e.dst} ({e.packets})" for e in examples[:3])
        lines.append(f"• {text('summary.examples', lang, items=items)}")
    return "\n".join(lines)
