"""The case file (case-N.md): its headings and labels."""

TEXTS: dict[str, dict[str, str]] = {
    "casefile.title": {
        "en": "Case file #{case_id}: {appliance}",
        "ja": "ケースファイル #{case_id}: {appliance}",
    },
    "casefile.requested_by": {"en": "Opened by", "ja": "開始者"},
    "casefile.opened": {"en": "Opened", "ja": "開始"},
    "casefile.closed": {"en": "Closed", "ja": "終了"},
    "casefile.outcome": {"en": "Outcome", "ja": "結果"},
    "casefile.chain": {
        "en": "Timeline hash chain (events / head)",
        "ja": "タイムラインのハッシュチェーン（件数 / 末尾）",
    },
    "casefile.appliance": {"en": "Appliance (inventory)", "ja": "アプライアンス（インベントリ）"},
    "casefile.not_in_inventory": {
        "en": "No longer in the inventory.",
        "ja": "インベントリにはもうありません。",
    },
    "casefile.steps": {"en": "Steps", "ja": "手順"},
    "casefile.step": {"en": "Step", "ja": "手順"},
    "casefile.finished": {"en": "Finished", "ja": "完了"},
    "casefile.result": {"en": "Result", "ja": "結果の詳細"},
    "casefile.maintenance": {
        "en": "Network maintenance (answer at step 1)",
        "ja": "ネットワークメンテナンス（手順 1 での回答）",
    },
    "casefile.probes": {"en": "The bot's own network checks", "ja": "ボット自身のネットワーク確認"},
    "casefile.artifacts": {
        "en": "Files (name, size, SHA-256)",
        "ja": "ファイル（名前、サイズ、SHA-256）",
    },
    "casefile.bytes": {"en": "{size} bytes", "ja": "{size} バイト"},
    "casefile.posted": {"en": "posted in the thread", "ja": "スレッドに投稿"},
    "casefile.collected": {"en": "collected by the bot", "ja": "ボットが収集"},
    "casefile.decisions": {"en": "Decisions and approvals", "ja": "判断と承認"},
    "casefile.version": {"en": "case version {version}", "ja": "ケース版 {version}"},
    "casefile.evidence": {"en": "evidence `{digest}`", "ja": "根拠 `{digest}`"},
    "casefile.reboots": {"en": "Reboots sent", "ja": "送信した再起動"},
    "casefile.unknown": {"en": "outcome unknown", "ja": "結果不明"},
    "casefile.timeline": {"en": "Timeline", "ja": "タイムライン"},
    "casefile.when": {"en": "When (UTC)", "ja": "日時（UTC）"},
    "casefile.kind": {"en": "Event", "ja": "イベント"},
    "casefile.who": {"en": "By", "ja": "実行者"},
    "casefile.data": {"en": "Data", "ja": "データ"},
}
