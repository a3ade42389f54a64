"""The reboot's approval: the evidence it is given on, the quorum, approvals refused."""

TEXTS: dict[str, dict[str, str]] = {
    "approval.evidence": {
        "en": "*Evidence* (`{digest}`; an approval counts for this evidence only):",
        "ja": "*根拠*（`{digest}`。承認はこの根拠に対してのみ有効です）:",
    },
    "approval.evidence.connection": {
        "en": "• Step 1: {result}",
        "ja": "• 手順 1: {result}",
    },
    "approval.evidence.verified": {"en": "verified", "ja": "確認済み"},
    "approval.evidence.not_verified": {"en": "failed", "ja": "失敗"},
    "approval.evidence.unknown": {"en": "not known", "ja": "不明"},
    "approval.evidence.detections": {
        "en": "• Detections: {count}",
        "ja": "• 検出: {count} 件",
    },
    "approval.evidence.capture": {
        "en": "• Capture: {packets} packets, {receiving}",
        "ja": "• キャプチャ: {packets} パケット、{receiving}",
    },
    "approval.evidence.receiving": {
        "en": "mirrored traffic seen",
        "ja": "ミラートラフィックあり",
    },
    "approval.evidence.not_receiving": {
        "en": "no mirrored traffic",
        "ja": "ミラートラフィックなし",
    },
    "approval.evidence.no_capture": {"en": "• Capture: not taken", "ja": "• キャプチャ: 未実施"},
    "approval.evidence.bundle": {
        "en": "• Debug bundle: `{name}` (SHA-256 `{sha}`)",
        "ja": "• デバッグバンドル: `{name}`（SHA-256 `{sha}`）",
    },
    "approval.evidence.no_bundle": {
        "en": "• Debug bundle: not collected",
        "ja": "• デバッグバンドル: 未収集",
    },
    "approval.evidence.attempts": {
        "en": "• Reboots approved before on this case: {count}",
        "ja": "• このケースでこれまでに承認された再起動: {count} 回",
    },
    "approval.quorum": {
        "en": "Approvals: {count} of {required} distinct approvers{so_far}.",
        "ja": "承認: {required} 人中 {count} 人{so_far}。",
    },
    "approval.partial": {
        "en": "Approval {count} of {required}: the reboot waits for another approver (below).",
        "ja": "承認 {required} 件中 {count} 件目: 再起動はほかの承認者を待っています（下記）。",
    },
    "approval.so_far": {"en": " — {who}", "ja": "（{who}）"},
    "error.already_approved": {
        "en": "You have already approved this reboot; it needs {missing} more approval(s) from "
        "other approvers. Nothing was done.",
        "ja": "この再起動はすでに承認済みです。ほかの承認者からあと {missing} 件の承認が必要です。"
        "何も実行していません。",
    },
    "error.evidence_changed": {
        "en": "The case changed since you read this question (its evidence is now `{digest}`). "
        "Your answer was not counted: read the new question in the thread and answer there.",
        "ja": "この質問を読んだ後にケースが変わりました（現在の根拠は `{digest}`）。"
        "回答は数えていません。スレッドの新しい質問を読んでから回答してください。",
    },
}
