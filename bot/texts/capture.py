"""Capture analysis (step 3): the summary, the verdict and its reasons."""

TEXTS: dict[str, dict[str, str]] = {
    # Verdict headlines (shown bold, after the verdict's icon) and the advice that follows them.
    "capture.verdict.receiving": {
        "en": "The sensor receives mirrored traffic.",
        "ja": "センサーはミラートラフィックを受信しています。",
    },
    "capture.verdict.no_packets": {
        "en": "No packets at all.",
        "ja": "パケットがまったくありません。",
    },
    "capture.advice.no_packets": {
        "en": "Check the mirror (SPAN/TAP) port and the cables.",
        "ja": "ミラー (SPAN/TAP) ポートとケーブルを確認してください。",
    },
    "capture.verdict.own_traffic_only": {
        "en": "Only the sensor's own traffic.",
        "ja": "センサー自身の通信しかありません。",
    },
    "capture.advice.own_traffic_only": {
        "en": "The mirror is not delivering traffic.",
        "ja": "ミラーがトラフィックを届けていません。",
    },
    "capture.verdict.one_direction": {
        "en": "Traffic in one direction only.",
        "ja": "片方向のトラフィックしかありません。",
    },
    "capture.advice.one_direction": {
        "en": "The SPAN looks half-configured (only ingress or only egress is mirrored).",
        "ja": "SPAN の設定が片側(受信のみ または 送信のみ)になっている可能性があります。",
    },
    "capture.verdict.too_little": {
        "en": "Too little traffic to judge.",
        "ja": "判断するにはトラフィックが少なすぎます。",
    },
    "capture.advice.too_little": {
        "en": "Capture for longer and try again.",
        "ja": "より長くキャプチャしてから再度お試しください。",
    },
    "capture.verdict.unsupported": {
        "en": "Packets arrived, but their link type is not supported.",
        "ja": "パケットはありますが、リンク種別に対応していません。",
    },
    "capture.advice.unsupported": {
        "en": "Their content cannot be judged.",
        "ja": "そのため内容を判断できません。",
    },
    "capture.reason.receiving": {
        "en": "{packets} packets from other hosts over {duration_s} s (about {pps} packets/s).",
        "ja": "他のホストのパケット {packets} 件 / {duration_s} 秒 (約 {pps} パケット/秒)。",
    },
    "capture.reason.receiving_untimed": {
        "en": "{packets} packets from other hosts (no rate: their timestamps cannot be trusted).",
        "ja": "他のホストのパケット {packets} 件 (タイムスタンプが信頼できないためレートは"
        "算出していません)。",
    },
    "capture.reason.implausible_span": {
        "en": "The packet timestamps span {years} years: the capture's clock was wrong or the "
        "file is damaged, so its duration and rate are not judged.",
        "ja": "パケットのタイムスタンプが {years} 年にわたっています。キャプチャ時の時計が"
        "狂っていたか、ファイルが破損しているため、キャプチャ時間とレートは判断していません。",
    },
    "capture.reason.no_packets": {
        "en": "The export holds {files} capture file(s) and no packets.",
        "ja": "エクスポートにはキャプチャファイルが {files} 個あり、パケットは 0 件です。",
    },
    "capture.reason.own_traffic": {
        "en": "{own} packets to or from the sensor itself, only {other} from other hosts "
        "(at least {min} needed).",
        "ja": "センサー自身の送受信が {own} 件、他のホストは {other} 件のみです "
        "(必要数 {min} 件以上)。",
    },
    "capture.reason.too_little": {
        "en": "{packets} packets from other hosts over {duration_s} s; "
        "at least {min_packets} are needed.",
        "ja": "他のホストのパケットは {duration_s} 秒で {packets} 件です。"
        "判断には {min_packets} 件以上が必要です。",
    },
    "capture.reason.too_little_untimed": {
        "en": "{packets} packets from other hosts; at least {min_packets} are needed.",
        "ja": "他のホストのパケットは {packets} 件です。判断には {min_packets} 件以上が必要です。",
    },
    "capture.reason.too_short": {
        "en": "The capture lasts {duration_s} s; at least {min_duration_s} s are needed.",
        "ja": "キャプチャ時間は {duration_s} 秒です。{min_duration_s} 秒以上が必要です。",
    },
    "capture.reason.one_direction": {
        "en": "{one_sided} of {connections} TCP connections ({percent}%) show one side only.",
        "ja": "TCP 接続 {connections} 件のうち {one_sided} 件 ({percent}%) で片側しか見えません。",
    },
    "capture.reason.both_directions": {
        "en": "{one_sided} of {connections} TCP connections ({percent}%) show one side only; "
        "the rest show both.",
        "ja": "TCP 接続 {connections} 件のうち片側のみは {one_sided} 件 ({percent}%) で、"
        "残りは双方向です。",
    },
    "capture.reason.few_tcp": {
        "en": "Only {connections} TCP connection(s): direction not judged.",
        "ja": "TCP 接続が {connections} 件のみのため、方向は判断していません。",
    },
    "capture.reason.unsupported_link": {
        "en": "{packets} packets on link type(s) {link_types}.",
        "ja": "{packets} 件のパケットのリンク種別: {link_types}。",
    },
    "capture.reason.some_unsupported": {
        "en": "{packets} packets on unsupported link types were only counted.",
        "ja": "対応していないリンク種別のパケット {packets} 件は件数のみ数えました。",
    },
    "capture.reason.sensor_unknown": {
        "en": "The sensor's address is not configured, so its own traffic was not told apart.",
        "ja": "センサーのアドレスが未設定のため、センサー自身の通信を区別していません。",
    },
    "capture.reason.partial": {
        "en": "The capture is damaged; only what could be read was analysed ({detail}).",
        "ja": "キャプチャが破損しているため、読めた部分のみ分析しました ({detail})。",
    },
    "capture.summary.title": {"en": "Capture summary", "ja": "キャプチャ概要"},
    "capture.summary.head": {
        "en": "{title} — {files}: {packets} packets, {bytes} bytes, {duration} s "
        "({first} → {last})",
        "ja": "{title} — {files}: {packets} パケット、{bytes} バイト、{duration} 秒 "
        "({first} → {last})",
    },
    "capture.summary.protocols": {
        "en": "Protocols: IPv4 {ipv4}, IPv6 {ipv6}, ARP {arp}, other {other} / "
        "TCP {tcp}, UDP {udp}, ICMP {icmp}",
        "ja": "プロトコル: IPv4 {ipv4}、IPv6 {ipv6}、ARP {arp}、その他 {other} / "
        "TCP {tcp}、UDP {udp}、ICMP {icmp}",
    },
    "capture.summary.talkers": {"en": "Top talkers: {items}", "ja": "通信量の多いホスト: {items}"},
    "capture.summary.conversations": {
        "en": "Top conversations: {items}",
        "ja": "主な通信: {items}",
    },
    "capture.summary.vlans": {"en": "VLANs: {items}", "ja": "VLAN: {items}"},
    "capture.summary.truncated": {
        "en": "{count} packets truncated by the snapshot length.",
        "ja": "{count} 件のパケットがスナップ長で切り詰められています。",
    },
    "capture.summary.examples": {
        "en": "One-sided examples: {items}",
        "ja": "片側のみの例: {items}",
    },
    "capture.summary.approximate": {
        "en": "(very many hosts: top lists are estimates)",
        "ja": "(ホストが非常に多いため上位リストは概算です)",
    },
    # The PNG chart (bot.capture.chart): plain text, drawn by matplotlib.
    "capture.chart.title": {
        "en": "{packets} packets, {duration} s — verdict: {verdict}",
        "ja": "{packets} パケット、{duration} 秒 — 判定: {verdict}",
    },
    "capture.chart.x": {"en": "seconds since {start}", "ja": "{start} からの秒数"},
    "capture.chart.y": {"en": "packets/s", "ja": "パケット/秒"},
    "capture.chart.mix": {"en": "protocol mix (packets)", "ja": "プロトコル構成 (パケット数)"},
    "capture.chart.other": {"en": "other", "ja": "その他"},
    "capture.chart.empty": {
        "en": "No packets in this capture",
        "ja": "このキャプチャにはパケットがありません",
    },
    "capture.chart.no_times": {
        "en": "No usable timestamps: no rate to draw",
        "ja": "使えるタイムスタンプがないため、レートは描けません",
    },
    "capture.chart.verdict.receiving": {"en": "receiving", "ja": "受信あり"},
    "capture.chart.verdict.no_packets": {"en": "no packets", "ja": "パケットなし"},
    "capture.chart.verdict.own_traffic_only": {
        "en": "sensor's own traffic only",
        "ja": "自身の通信のみ",
    },
    "capture.chart.verdict.one_direction": {"en": "one direction only", "ja": "片方向のみ"},
    "capture.chart.verdict.too_little": {
        "en": "cannot judge (too little)",
        "ja": "判断不能 (少なすぎ)",
    },
    "capture.chart.verdict.unsupported": {
        "en": "unsupported link type",
        "ja": "未対応のリンク種別",
    },
}
