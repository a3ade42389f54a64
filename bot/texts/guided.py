"""What the bot tells a person to do on a sensor's console, step by step (DESIGN.md §2).

The console paths are the exact labels the DDI console shows, so they can be matched on screen.
"""

TEXTS: dict[str, dict[str, str]] = {
    "guide.title": {
        "en": "*Step {step} — {name}: please do this on the console of {appliance}*",
        "ja": "*手順 {step} — {name}: {appliance} のコンソールで次の操作をしてください*",
    },
    "guide.1.path": {
        "en": "Administration > Global Settings > Network Interface Settings > "
        "Threat Management Services Portal > *Test Connection*",
        "ja": "[管理] > [グローバル設定] > [ネットワークインターフェースの設定] > "
        "[Threat Management Services Portal] > *[接続テスト]*",
    },
    "guide.1.then": {
        "en": "Then press *Verified Connection* if that is what the console shows, or "
        "*Other message…* to paste exactly what it shows instead.",
        "ja": "コンソールに「Verified Connection」と表示されたら *Verified Connection* を、"
        "それ以外の表示なら *その他のメッセージ…* を押して表示内容をそのまま貼り付けてください。",
    },
    "guide.2.path": {
        "en": "Logs > Detection Log Query; Period: {start} to {end}, Endpoints: all computers, "
        "Detection type: threats (all types, all severities, malware name blank) > *Export*",
        "ja": "[ログ] > [検出ログのクエリ]; [期間] 開始 {start} / 終了 {end}, "
        "[エンドポイント] すべてのコンピュータ, [検出の種類] 脅威 "
        "(タイプ・重大度すべて, 不正プログラム名は空白) > *[エクスポート]*",
    },
    "guide.2.then": {
        "en": "Then upload the exported CSV file *in this thread*, or press *Enter a count…* "
        "if you only have the number of detections.",
        "ja": "エクスポートした CSV ファイルを *このスレッドに* アップロードしてください。"
        "件数だけが分かる場合は *件数を入力…* を押してください。",
    },
    "guide.3.path": {
        "en": "Administration > Global Settings > Network Interface Settings > Appliance IP "
        "Settings: *Start* on the capture interface{interface} → wait about a minute → "
        "*Stop* → *Export*",
        "ja": "[管理] > [グローバル設定] > [ネットワークインターフェースの設定] > "
        "[アプライアンスIPの設定]: キャプチャ対象インタフェース{interface}の *[開始]* → "
        "1 分ほど待つ → *[停止]* → *[エクスポート]*",
    },
    "guide.3.interface": {"en": " ({interface})", "ja": " ({interface}) "},
    "guide.3.then": {
        "en": "Then upload the exported file (zip or pcap) *in this thread*; the bot analyses it.",
        "ja": "エクスポートしたファイル (zip または pcap) を *このスレッドに* "
        "アップロードしてください。ボットが解析します。",
    },
    "guide.4.path": {
        "en": 'Open {url}, "Export debug logs": tick both debug logs and configuration > *Export*',
        "ja": "{url} を開き「デバックログのエクスポート」: 「デバックログのエクスポート」と"
        "「設定のエクスポート」の両方にチェック > *[エクスポート]*",
    },
    "guide.4.then": {
        "en": "Then upload the bundle *in this thread* (up to {limit} MB); the bot keeps it with "
        "its SHA-256 for the vendor. Larger bundles go to the vendor by FTP.",
        "ja": "ファイルを *このスレッドに* アップロードしてください ({limit} MB まで)。"
        "ボットが SHA-256 と共にベンダー向けに保管します。大きいファイルは FTP でベンダーに"
        "送ってください。",
    },
    "guide.5.path": {
        "en": "Administration > Global Settings > System Settings > System Maintenance > "
        '*Reboot* ("System" selected) > *OK*',
        "ja": "[管理] > [グローバル設定] > [システム設定] > [システムのメンテナンス] > "
        "*[再起動]* (「システム」を選択) > *[OK]*",
    },
    "guide.5.then": {
        "en": "The reboot was approved. Press *Rebooted* once you have pressed OK; the bot then "
        "watches the console until it answers again.",
        "ja": "再起動は承認済みです。OK を押したら *再起動しました* を押してください。"
        "ボットはコンソールが応答するまで監視します。",
    },
    "guide.unknown_console": {
        "en": "(console address not in inventory)",
        "ja": "(コンソールのアドレスがインベントリにありません)",
    },
    "guide.button.verified": {"en": "Verified Connection", "ja": "Verified Connection"},
    "guide.button.other": {"en": "Other message…", "ja": "その他のメッセージ…"},
    "guide.button.count": {"en": "Enter a count…", "ja": "件数を入力…"},
    "guide.button.rebooted": {"en": "Rebooted", "ja": "再起動しました"},
    # modals
    "modal.connection.title": {"en": "Connection test result", "ja": "接続テストの結果"},
    "modal.connection.message": {
        "en": "Message the console shows (paste it exactly)",
        "ja": "コンソールの表示 (そのまま貼り付け)",
    },
    "modal.connection.empty": {
        "en": "Paste the message the console shows.",
        "ja": "コンソールに表示されたメッセージを貼り付けてください。",
    },
    "modal.maintenance": {
        "en": "Was there network maintenance around that time?",
        "ja": "その時間帯にネットワークのメンテナンスはありましたか?",
    },
    "modal.maintenance.yes": {"en": "Yes", "ja": "あった"},
    "modal.maintenance.no": {"en": "No", "ja": "なかった"},
    "modal.maintenance.unknown": {"en": "Don't know", "ja": "分からない"},
    "modal.maintenance.notes": {
        "en": "Maintenance details (optional)",
        "ja": "メンテナンスの詳細 (任意)",
    },
    "modal.count.title": {"en": "Detections found", "ja": "検出件数"},
    "modal.count.label": {
        "en": "Number of detections the query found",
        "ja": "クエリで見つかった検出の件数",
    },
    "modal.count.invalid": {
        "en": "Enter a whole number, 0 or more.",
        "ja": "0 以上の整数を入力してください。",
    },
    "modal.submit": {"en": "Submit", "ja": "送信"},
    "modal.cancel": {"en": "Cancel", "ja": "キャンセル"},
    # answers recorded
    "guide.answered_by": {"en": "Answered by {user}.", "ja": "回答者: {user}"},
    "choice.verified": {"en": "Verified Connection", "ja": "Verified Connection"},
    "choice.other": {"en": "another console message", "ja": "その他のメッセージ"},
    "choice.count": {"en": "a count of detections", "ja": "検出件数の入力"},
    "choice.upload": {"en": "a file posted in the thread", "ja": "スレッドへのファイル投稿"},
    "choice.feed": {"en": "the syslog feed", "ja": "syslog フィード"},
    "choice.rebooted": {"en": "Rebooted", "ja": "再起動済み"},
    "guide.maintenance.recorded": {
        "en": "Network maintenance around that time: *{answer}*{notes}",
        "ja": "その時間帯のネットワークメンテナンス: *{answer}*{notes}",
    },
    "guide.rebooted.by": {
        "en": "{user} rebooted the sensor from its console; watching for it to come back.",
        "ja": "{user} がコンソールからセンサーを再起動しました。復帰を監視しています。",
    },
    "guide.not_waiting": {
        "en": "This step is no longer waiting for an answer; the case has moved on.",
        "ja": "このステップはすでに回答済みです。ケースは次に進んでいます。",
    },
}
