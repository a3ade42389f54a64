"""The syslog detection feed, where it answers step 2 and informs the quiet/busy question."""

TEXTS: dict[str, dict[str, str]] = {
    "feed.found": {
        "en": "*Step 2 — Detection log query* from the syslog feed ({start} – {end}): "
        "{count} detections. This sensor forwards its detections by syslog (last received "
        "{last}), so the console query was not needed.",
        "ja": "*手順 2 — 検出ログのクエリ* syslog フィードより（{start} – {end}）: "
        "検出 {count} 件。"
        "このセンサーは検出を syslog で転送しているため（最終受信 {last}）、"
        "コンソールでのクエリは不要でした。",
    },
    "feed.none": {
        "en": "*Step 2 — Detection log query* from the syslog feed ({start} – {end}): no "
        "detections. This sensor forwards its detections by syslog (last received {last}). "
        "Either the network is simply quiet, or the sensor receives no packets.",
        "ja": "*手順 2 — 検出ログのクエリ* syslog フィードより（{start} – {end}）: "
        "検出はありません。"
        "このセンサーは検出を syslog で転送しています（最終受信 {last}）。ネットワークが単に"
        "静かなのか、センサーがパケットを受信していないのかのどちらかです。",
    },
    "feed.usual": {
        "en": "Normally about {per_day} detections per day (syslog, last {days} days).",
        "ja": "通常は 1 日あたり約 {per_day} 件の検出があります（syslog、過去 {days} 日間）。",
    },
    "prompt.traffic.usual": {
        "en": "For comparison, this sensor normally has about {per_day} detections per day "
        "(syslog history).",
        "ja": "参考: このセンサーの検出は通常 1 日あたり約 {per_day} 件です（syslog の履歴）。",
    },
}
