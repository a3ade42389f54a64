"""The App Home tab."""

TEXTS: dict[str, dict[str, str]] = {
    "home.open.title": {"en": "Open cases ({count})", "ja": "対応中のケース（{count} 件）"},
    "home.health.title": {"en": "Appliances ({count})", "ja": "アプライアンス（{count} 台）"},
    "home.health.none": {
        "en": "No appliance in the inventory.",
        "ja": "インベントリにアプライアンスがありません。",
    },
    "home.health.more": {
        "en": "…and {count} more, all quiet: `/ddi-check status <appliance>` tells more.",
        "ja": "…ほか {count} 台（問題なし）。詳しくは `/ddi-check status <アプライアンス名>`。",
    },
    "home.feed.none": {"en": "no syslog feed", "ja": "Syslog なし"},
    "home.feed.never": {"en": "no detection yet", "ja": "検出はまだありません"},
    "home.feed.last": {"en": "last detection {last}", "ja": "最後の検出 {last}"},
    "home.feed.silent": {
        "en": "*silent* since {last}",
        "ja": "{last} から*検出なし*",
    },
    "home.probes.ok": {"en": "probes OK ({at})", "ja": "プローブ正常（{at}）"},
    "home.probes.failed": {"en": "*probes failed* ({at})", "ja": "*プローブ失敗*（{at}）"},
    "home.case": {"en": "case #{case_id} open", "ja": "ケース #{case_id} 対応中"},
    "home.alerts.title": {"en": "Open alerts ({count})", "ja": "未解決のアラート（{count} 件）"},
    "home.alert": {"en": "*alert*: {what}", "ja": "*アラート*: {what}"},
    "home.alert.console": {"en": "console down", "ja": "コンソール応答なし"},
    "home.alert.portal": {"en": "portal unreachable", "ja": "ポータル到達不可"},
    "home.alert.silent": {"en": "silent", "ja": "検出なし"},
    "home.recent.title": {"en": "Recent cases", "ja": "最近のケース"},
    "home.recent.none": {"en": "No closed case yet.", "ja": "終了したケースはまだありません。"},
    "home.recent.entry": {
        "en": "• #{case_id} `{appliance}` {when}: {outcome} — {reason}",
        "ja": "• #{case_id} `{appliance}` {when}: {outcome} — {reason}",
    },
    "home.updated": {"en": "Updated {at}.", "ja": "{at} 更新。"},
}
