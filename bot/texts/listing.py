"""``/ddi-check list`` and ``/ddi-check history``."""

TEXTS: dict[str, dict[str, str]] = {
    "list.none": {"en": "No open cases.", "ja": "対応中のケースはありません。"},
    "list.title": {"en": "*Open cases* ({count}):", "ja": "*対応中のケース*（{count} 件）:"},
    "list.entry": {
        "en": "• #{case_id} `{appliance}` — {waiting} (open since {since})",
        "ja": "• #{case_id} `{appliance}` — {waiting}（{since} から対応中）",
    },
    "history.none": {
        "en": "`{appliance}` has no closed cases yet.",
        "ja": "`{appliance}` に終了したケースはまだありません。",
    },
    "history.title": {
        "en": "*Past cases of* `{appliance}` (the latest {count}):",
        "ja": "`{appliance}` の*過去のケース*（最新 {count} 件）:",
    },
    "history.entry": {
        "en": "• #{case_id} {opened}: {outcome} — {reason} (took {took})",
        "ja": "• #{case_id} {opened}: {outcome} — {reason}（所要 {took}）",
    },
    "history.minutes": {"en": "{minutes} min", "ja": "{minutes} 分"},
    "history.hours": {"en": "{hours} h", "ja": "{hours} 時間"},
}
