"""``/ddi-check status <appliance>``."""

TEXTS: dict[str, dict[str, str]] = {
    "status.title": {
        "en": "*Status of `{appliance}`* (at {at}):",
        "ja": "*`{appliance}` の状態*（{at} 時点）:",
    },
    "status.site": {"en": "Site: {site}", "ja": "拠点: {site}"},
    "status.probes.none": {
        "en": "No console or portal server in the inventory: nothing to probe.",
        "ja": "インベントリにコンソールもポータルサーバーもないため、プローブできません。",
    },
    "status.feed.none": {
        "en": "Syslog: this sensor has no `syslog_ids` in the inventory.",
        "ja": "Syslog: このセンサーにはインベントリの `syslog_ids` がありません。",
    },
    "status.feed.never": {
        "en": "Syslog: no detection has arrived from this sensor yet.",
        "ja": "Syslog: このセンサーからの検出はまだ届いていません。",
    },
    "status.feed.ok": {
        "en": "Syslog: last detection {last}; {count} in the last 24 hours{usual}.",
        "ja": "Syslog: 最後の検出 {last}、直近 24 時間で {count} 件{usual}。",
    },
    "status.feed.silent": {
        "en": "⚠️ Syslog: *silent* for {quiet} (last detection {last}){usual}.",
        "ja": "⚠️ Syslog: {quiet}にわたり*検出なし*（最後の検出 {last}）{usual}。",
    },
    "status.feed.usual": {
        "en": " (usually {per_day} per day)",
        "ja": "（通常は 1 日 {per_day} 件）",
    },
    "status.open": {
        "en": "Open case: #{case_id} — {waiting}",
        "ja": "対応中のケース: #{case_id} — {waiting}",
    },
    "status.no_open": {"en": "No open case.", "ja": "対応中のケースはありません。"},
    "status.last": {
        "en": "Last closed case: #{case_id}, {outcome} ({when}).",
        "ja": "最後に終了したケース: #{case_id}、{outcome}（{when}）。",
    },
    "status.week": {
        "en": "{count} cases for this sensor in the last 7 days.",
        "ja": "直近 7 日間のこのセンサーのケース: {count} 件。",
    },
}
