"""The runbook's own texts: steps, case messages, questions, the report, errors, usage."""

TEXTS: dict[str, dict[str, str]] = {
    # steps and their states
    "step.1": {"en": "Connection test", "ja": "接続テスト"},
    "step.2": {"en": "Detection log query", "ja": "検出ログのクエリ"},
    "step.3": {"en": "Packet capture", "ja": "パケットキャプチャ"},
    "step.4": {"en": "Debug log collection", "ja": "デバッグログの収集"},
    "step.5": {"en": "Reboot", "ja": "再起動"},
    "status.pending": {"en": "pending", "ja": "未実施"},
    "status.running": {"en": "running", "ja": "実行中"},
    "status.waiting": {"en": "waiting for a decision", "ja": "判断待ち"},
    "status.ok": {"en": "done", "ja": "完了"},
    "status.problem": {"en": "problem found", "ja": "問題あり"},
    "status.skipped": {"en": "skipped", "ja": "スキップ"},
    "status.failed": {"en": "could not run", "ja": "実行できず"},
    "status.on_console": {"en": "to do on the console", "ja": "コンソールで実施待ち"},
    # the case's root message
    "case.title": {
        "en": "DDI check — case #{case_id}: {appliance}",
        "ja": "DDI チェック — ケース #{case_id}: {appliance}",
    },
    "case.recent": {
        "en": "{nth} case for this sensor in 7 days",
        "ja": "このセンサーの 7 日間で {nth} 件目のケースです",
    },
    "case.requested_by": {"en": "Requested by {user}", "ja": "依頼者: {user}"},
    "case.open": {"en": "In progress", "ja": "対応中"},
    "case.resolved": {"en": "Resolved", "ja": "解決済み"},
    "case.escalated": {"en": "Escalated", "ja": "エスカレーション済み"},
    "case.abandoned": {"en": "Not opened", "ja": "開始できず"},
    "reason.thread_failed": {
        "en": "the bot could not post in the channel",
        "ja": "ボットがチャンネルに投稿できませんでした",
    },
    # what the case waits for, on its root message
    "wait.running": {
        "en": "Running step {step}: {name}",
        "ja": "手順 {step}（{name}）を実行中",
    },
    "wait.decision": {
        "en": "Waiting for an operator to answer the question in the thread",
        "ja": "スレッドの質問へのオペレーターの回答を待っています",
    },
    "wait.approver": {
        "en": "Waiting for an approver (expires {until})",
        "ja": "承認者の判断を待っています（期限 {until}）",
    },
    "wait.recheck": {
        "en": "Waiting for the re-check at {until}",
        "ja": "{until} の再確認を待っています",
    },
    "wait.person.1": {
        "en": "Waiting for {user} to run the connection test on the console",
        "ja": "{user} がコンソールで接続テストを行うのを待っています",
    },
    "wait.person.2": {
        "en": "Waiting for {user} to post the detection log export (or its count)",
        "ja": "{user} が検出ログのエクスポート（または件数）を投稿するのを待っています",
    },
    "wait.person.3": {
        "en": "Waiting for {user} to upload the capture",
        "ja": "{user} がキャプチャをアップロードするのを待っています",
    },
    "wait.person.4": {
        "en": "Waiting for {user} to upload the debug logs",
        "ja": "{user} がデバッグログをアップロードするのを待っています",
    },
    "wait.person.5": {
        "en": "Waiting for {user} to reboot the sensor on the console",
        "ja": "{user} がコンソールでセンサーを再起動するのを待っています",
    },
    "wait.rebooting": {"en": "Sending the reboot", "ja": "再起動を送信中"},
    "wait.down": {
        "en": "Waiting for the sensor to restart (gives up at {until})",
        "ja": "センサーの再起動を待っています（{until} まで）",
    },
    "wait.back": {
        "en": "Waiting for the sensor to come back (gives up at {until})",
        "ja": "センサーの復帰を待っています（{until} まで）",
    },
    "reason.verified_after_reboot": {
        "en": "the connection test passes after the reboot",
        "ja": "再起動後の接続テストに成功しました",
    },
    "reason.still_failing_after_reboot": {
        "en": "the connection test still fails after the reboot",
        "ja": "再起動後も接続テストが失敗しています",
    },
    "reason.did_not_return": {
        "en": "the appliance did not come back after the reboot",
        "ja": "再起動後、アプライアンスが復帰しませんでした",
    },
    "reason.reboot_rejected": {"en": "the reboot was rejected", "ja": "再起動が却下されました"},
    "reason.approval_expired": {
        "en": "nobody approved the reboot in time; run the check again if it is still needed",
        "ja": "時間内に再起動が承認されませんでした。必要なら再度チェックを実行してください",
    },
    "reason.escalated_at_traffic": {
        "en": "escalated instead of judging traffic",
        "ja": "トラフィックの判断をせずエスカレーションしました",
    },
    "reason.escalated_at_fix": {
        "en": "the sensor does not receive the mirrored traffic",
        "ja": "センサーがミラートラフィックを受信していません",
    },
    "reason.escalated_at_debug": {
        "en": "escalated before the debug logs",
        "ja": "デバッグログ収集前にエスカレーションしました",
    },
    "reason.escalated_at_reboot": {
        "en": "escalated instead of a reboot",
        "ja": "再起動せずエスカレーションしました",
    },
    "reason.escalated_at_recheck": {
        "en": "escalated instead of waiting for the re-check",
        "ja": "再確認を待たずにエスカレーションしました",
    },
    "reason.escalated_by_operator": {
        "en": "stopped and escalated by an operator",
        "ja": "オペレーターが中止し、エスカレーションしました",
    },
    "reason.escalated_at_retry": {
        "en": "a step could not run",
        "ja": "手順を実行できませんでした",
    },
    # step results, posted in the thread
    "result.connection.verified": {
        "en": "*Step 1 — Connection test*: `Verified Connection`. The link to the Threat "
        "Management Services Portal works.",
        "ja": "*手順 1 — 接続テスト*: `Verified Connection`。Threat Management Services Portal "
        "への接続は正常です。",
    },
    "result.connection.failed": {
        "en": "*Step 1 — Connection test*: the console says `{message}` instead of "
        "`Verified Connection`: the link between the sensor and the portal has a problem. "
        "Note whether any network maintenance happened around this time (the vendor asks). "
        "Continuing with step 2.",
        "ja": "*手順 1 — 接続テスト*: `Verified Connection` ではなく `{message}` と表示されました。"
        "センサーとポータル間の接続に問題があります。この時間帯にネットワークメンテナンスが"
        "あったかどうかを記録してください（ベンダーへの報告に必要です）。手順 2 に進みます。",
    },
    "result.verify.verified": {
        "en": "*After the reboot — Connection test*: `Verified Connection`.",
        "ja": "*再起動後の接続テスト*: `Verified Connection`。",
    },
    "result.verify.failed": {
        "en": "*After the reboot — Connection test*: still `{message}`.",
        "ja": "*再起動後の接続テスト*: 依然として `{message}` です。",
    },
    "result.detections.found": {
        "en": "*Step 2 — Detection log query* ({start} – {end}): {count} detections. "
        "The sensor is detecting.",
        "ja": "*手順 2 — 検出ログのクエリ*（{start} – {end}）: 検出 {count} 件。"
        "センサーは検出を行っています。",
    },
    "result.detections.none": {
        "en": "*Step 2 — Detection log query* ({start} – {end}): no detections. Either the "
        "network is simply quiet, or the sensor receives no packets.",
        "ja": "*手順 2 — 検出ログのクエリ*（{start} – {end}）: 検出はありません。ネットワークが"
        "単に静かなのか、センサーがパケットを受信していないのかのどちらかです。",
    },
    "result.debug.collected": {
        "en": "*Step 4 — Debug logs*: `{filename}` ({size} bytes), SHA-256 `{sha256}`. "
        "Hand it to the vendor (large files go by FTP).",
        "ja": "*手順 4 — デバッグログ*: `{filename}`（{size} バイト）、SHA-256 `{sha256}`。"
        "ベンダーに提供してください（大きなファイルは FTP で送付）。",
    },
    "result.reboot.sent": {
        "en": "*Step 5 — Reboot* sent (approved by {user}). Waiting for the appliance to "
        "come back…",
        "ja": "*手順 5 — 再起動* を実行しました（承認者: {user}）。アプライアンスの復帰を"
        "待っています…",
    },
    "result.reboot.failed": {
        "en": "*Step 5 — Reboot* could not be sent: {error}. It is not retried without a new "
        "approval.",
        "ja": "*手順 5 — 再起動* を送信できませんでした: {error}。新たな承認なしに再試行は"
        "しません。",
    },
    "result.reboot.interrupted": {
        "en": "The bot restarted while a reboot was being sent; whether the appliance "
        "rebooted is unknown. Check the console, then approve again or reject.",
        "ja": "再起動の送信中にボットが再起動しました。アプライアンスが再起動したかは不明です。"
        "コンソールを確認し、再度承認するか却下してください。",
    },
    "result.appliance.back": {
        "en": "The appliance answers again; running the connection test to verify.",
        "ja": "アプライアンスが応答しました。確認のため接続テストを実行します。",
    },
    "result.step_failed": {
        "en": "*Step {step} — {name}* could not run: {error}.",
        "ja": "*手順 {step} — {name}* を実行できませんでした: {error}。",
    },
    "result.recheck.scheduled": {
        "en": "Treated as a quiet network: step 2 runs again at {when}.",
        "ja": "静かなネットワークとして扱います。{when} に手順 2 を再実行します。",
    },
    "result.closed": {
        "en": "*{outcome}*: {reason}.",
        "ja": "*{outcome}*: {reason}。",
    },
    # questions and their buttons
    "prompt.traffic": {
        "en": "No detections. Is this sensor's network normally quiet (re-check later), or "
        "should we capture packets to see whether it receives any?",
        "ja": "検出がありません。このセンサーのネットワークは普段から静かですか（後で再確認）、"
        "それともパケットをキャプチャして受信を確認しますか？",
    },
    "prompt.fix": {
        "en": "The capture does not show the mirrored traffic the sensor should receive (see "
        "the analysis above). Fix the mirror (SPAN/TAP) port or the cables, then capture "
        "again — or escalate.",
        "ja": "キャプチャに、センサーが受信すべきミラートラフィックが見られません"
        "（上の分析を参照）。ミラー（SPAN/TAP）ポートやケーブルを修正してから再キャプチャするか、"
        "エスカレーションしてください。",
    },
    "prompt.debug": {
        "en": "Before a reboot, collect the debug logs and configuration for the vendor? "
        "Recommended: a reboot destroys the state the vendor wants to see.",
        "ja": "再起動の前に、ベンダー向けにデバッグログと設定をエクスポートしますか？"
        "推奨: 再起動するとベンダーが確認したい状態が失われます。",
    },
    "prompt.reboot": {
        "en": "Reboot *{appliance}*? The sensor stops inspecting traffic until it is back. "
        "Only an approver can approve.",
        "ja": "*{appliance}* を再起動しますか？復帰するまでセンサーはトラフィックを検査しません。"
        "承認できるのは承認者のみです。",
    },
    "prompt.reboot.interrupted": {
        "en": "Warning: an earlier reboot attempt was interrupted; check the console first.",
        "ja": "注意: 以前の再起動の試行が中断されています。先にコンソールを確認してください。",
    },
    "prompt.retry": {
        "en": "Step {step} ({name}) could not run: {error}. Retry, or escalate?",
        "ja": "手順 {step}（{name}）を実行できませんでした: {error}。再試行しますか、"
        "エスカレーションしますか？",
    },
    "prompt.recheck": {
        "en": "Waiting for the re-check of a quiet network. Re-check now, or escalate?",
        "ja": "静かなネットワークの再確認を待っています。今すぐ再確認しますか、"
        "エスカレーションしますか？",
    },
    "prompt.decided": {
        "en": "{question}\n→ *{choice}* — {user}, {when}",
        "ja": "{question}\n→ *{choice}* — {user}、{when}",
    },
    "choice.quiet": {"en": "Quiet — re-check later", "ja": "静か（後で再確認）"},
    "choice.capture": {"en": "Capture packets", "ja": "パケットをキャプチャ"},
    "choice.capture_again": {"en": "Capture again", "ja": "再キャプチャ"},
    "choice.escalate": {"en": "Escalate", "ja": "エスカレーション"},
    "choice.collect": {"en": "Collect debug logs", "ja": "デバッグログを収集"},
    "choice.skip": {"en": "Skip", "ja": "スキップ"},
    "choice.approve_reboot": {"en": "Approve reboot", "ja": "再起動を承認"},
    "choice.reject_reboot": {"en": "Reject", "ja": "却下"},
    "choice.retry": {"en": "Retry", "ja": "再試行"},
    "choice.recheck_now": {"en": "Re-check now", "ja": "今すぐ再確認"},
    "confirm.reboot.title": {"en": "Reboot {appliance}?", "ja": "{appliance} を再起動しますか？"},
    "confirm.reboot.text": {
        "en": "The sensor stops inspecting traffic for several minutes. Reboot now?",
        "ja": "センサーは数分間トラフィックを検査しません。今すぐ再起動しますか？",
    },
    "confirm.reboot.yes": {"en": "Reboot", "ja": "再起動"},
    "confirm.reboot.no": {"en": "Cancel", "ja": "キャンセル"},
    # escalation report
    "report.title": {
        "en": "*Vendor report — case #{case_id}, {appliance}*",
        "ja": "*ベンダー報告 — ケース #{case_id}、{appliance}*",
    },
    "report.connection": {"en": "Connection test result: {value}", "ja": "接続テスト結果: {value}"},
    "report.verify": {
        "en": "Connection test after the reboot: {value}",
        "ja": "再起動後の接続テスト結果: {value}",
    },
    "report.maintenance": {
        "en": "Network maintenance around that time: {value}",
        "ja": "その時間帯のネットワークメンテナンス: {value}",
    },
    "report.detections": {"en": "Detections: {value}", "ja": "検出数: {value}"},
    "report.capture": {"en": "Capture: {value}", "ja": "キャプチャ: {value}"},
    "report.debug": {"en": "Debug bundle: {value}", "ja": "デバッグログ: {value}"},
    "report.reboots": {"en": "Reboots sent: {value}", "ja": "再起動の実行回数: {value}"},
    "report.network": {
        "en": "The bot's network checks: {value}",
        "ja": "ボットによるネットワーク確認: {value}",
    },
    "report.file": {
        "en": "File received: `{name}` ({size} bytes), SHA-256 `{sha256}`",
        "ja": "受領ファイル: `{name}` ({size} バイト)、SHA-256 `{sha256}`",
    },
    "report.unknown": {"en": "not known", "ja": "不明"},
    "report.not_run": {"en": "not run", "ja": "未実施"},
    "report.packets": {"en": "{packets} packets", "ja": "{packets} パケット"},
    # errors
    "error.internal": {
        "en": "Something went wrong inside ddi-bot; the details are in its log.",
        "ja": "ddi-bot 内部でエラーが発生しました。詳細はログを確認してください。",
    },
    "error.config": {"en": "Configuration problem: {detail}", "ja": "設定の問題: {detail}"},
    "error.inventory": {"en": "Inventory problem: {detail}", "ja": "インベントリの問題: {detail}"},
    "error.unknown_appliance": {
        "en": "Unknown appliance `{name}`.",
        "ja": "アプライアンス `{name}` は登録されていません。",
    },
    "error.unknown_appliance.suggest": {
        "en": "Did you mean: {names}?",
        "ja": "もしかして: {names}",
    },
    "error.unknown_appliance.none": {
        "en": "No similar name in the inventory; `/ddi-check help` explains usage.",
        "ja": "インベントリに似た名前はありません。使い方は `/ddi-check help` を参照してください。",
    },
    "error.case_already_open": {
        "en": "`{appliance}` already has an open case #{case_id}: {link}",
        "ja": "`{appliance}` には対応中のケース #{case_id} があります: {link}",
    },
    "error.not_authorised": {
        "en": "Only approvers (DDI_BOT_APPROVERS) may approve a reboot: {who}. Nothing was done.",
        "ja": "再起動を承認できるのは承認者（DDI_BOT_APPROVERS）のみです: {who}。"
        "何も実行していません。",
    },
    "error.self_approval": {
        "en": "You opened this case, so another approver must approve its reboot (two-person "
        "rule, DDI_BOT_TWO_PERSON): {who}. Nothing was done.",
        "ja": "このケースを開始した本人は再起動を承認できません（二者承認、DDI_BOT_TWO_PERSON）。"
        "ほかの承認者に依頼してください: {who}。何も実行していません。",
    },
    "error.no_approver": {
        "en": "nobody else is listed",
        "ja": "ほかに登録された承認者はいません",
    },
    "error.access_slow": {
        "en": "Slack did not say in time whether you are in a user group of DDI_BOT_OPERATORS "
        "or DDI_BOT_APPROVERS. Nothing was done; try again in a moment.",
        "ja": "DDI_BOT_OPERATORS または DDI_BOT_APPROVERS のユーザーグループに所属しているかを"
        " Slack から時間内に確認できませんでした。何も実行していません。"
        "少し待ってからもう一度お試しください。",
    },
    "error.not_operator": {
        "en": "You are not allowed to run DDI checks (DDI_BOT_OPERATORS).",
        "ja": "DDI チェックを実行する権限がありません（DDI_BOT_OPERATORS）。",
    },
    "error.already_decided": {
        "en": "This was already decided: *{choice}* by {user}.",
        "ja": "この判断はすでに行われています: {user} が *{choice}* を選択しました。",
    },
    "error.stale_prompt": {
        "en": "This question is no longer current; see the latest message in the thread.",
        "ja": "この質問はすでに古くなっています。スレッドの最新メッセージを確認してください。",
    },
    "verify.intact": {
        "en": "Case #{case_id}: the timeline is intact ({events} events, chain head {head}).",
        "ja": "ケース #{case_id}: タイムラインは改ざんされていません"
        "（{events} 件、チェーンの末尾 {head}）。",
    },
    "verify.altered": {
        "en": "Case #{case_id}: event {event} (#{seq} in the timeline) was altered after it was "
        "recorded. The {good} events before it are intact.",
        "ja": "ケース #{case_id}: イベント {event}（タイムラインの {seq} 番目）は記録後に"
        "変更されています。それより前の {good} 件は改ざんされていません。",
    },
    "verify.inserted": {
        "en": "Case #{case_id}: event {event} (at #{seq}) does not follow the event before it: "
        "an event was inserted or reordered there. The {good} events before it are intact.",
        "ja": "ケース #{case_id}: イベント {event}（{seq} 番目）は直前のイベントに"
        "つながりません。イベントが挿入されたか順序が変えられています。"
        "それより前の {good} 件は改ざんされていません。",
    },
    "verify.removed": {
        "en": "Case #{case_id}: event #{seq} of the timeline is missing: events were removed "
        "from there. The {good} events before it are intact.",
        "ja": "ケース #{case_id}: タイムラインの {seq} 番目のイベントがありません。"
        "そこから先のイベントが削除されています。それより前の {good} 件は改ざんされていません。",
    },
    "verify.unsealed": {
        "en": "Case #{case_id}: event {event} (at #{seq}) carries no hash: it was written "
        "around the bot, not by it. The {good} events before it are intact.",
        "ja": "ケース #{case_id}: イベント {event}（{seq} 番目）にはハッシュがありません。"
        "ボット以外の手段で書き込まれています。それより前の {good} 件は改ざんされていません。",
    },
    "error.case_not_found": {
        "en": "Case not found: {detail}",
        "ja": "ケースが見つかりません: {detail}",
    },
    "error.slack_post_failed": {
        "en": "Could not post in this channel ({detail}). Invite the bot to the channel and "
        "try again.",
        "ja": "このチャンネルに投稿できませんでした（{detail}）。ボットをチャンネルに招待して"
        "から再実行してください。",
    },
    "error.capture": {
        "en": "The capture file cannot be read: {detail}",
        "ja": "キャプチャファイルを読み取れません: {detail}",
    },
    "error.code.unreachable": {
        "en": "the appliance does not accept connections",
        "ja": "アプライアンスに接続できません",
    },
    "error.code.timeout": {
        "en": "the appliance did not answer in time",
        "ja": "アプライアンスが時間内に応答しません",
    },
    "error.code.tls": {
        "en": "the appliance's TLS certificate could not be verified",
        "ja": "アプライアンスの TLS 証明書を検証できません",
    },
    "error.code.protocol": {
        "en": "the appliance gave an unexpected answer",
        "ja": "アプライアンスから想定外の応答がありました",
    },
    "error.code.capture": {
        "en": "the exported capture could not be read",
        "ja": "エクスポートされたキャプチャを読み取れません",
    },
    "error.code.config": {
        "en": "the appliance's driver is not configured correctly",
        "ja": "アプライアンスのドライバー設定に問題があります",
    },
    "error.code.internal": {
        "en": "an unexpected error inside ddi-bot (details in its log)",
        "ja": "ddi-bot 内部で予期しないエラーが発生しました（詳細はログ）",
    },
    "error.code.duplicate": {
        "en": "this reboot was already attempted once; approve again to send a new one",
        "ja": "この再起動はすでに一度試行されています。新たに送るには再度承認してください",
    },
    "error.code.driver_error": {
        "en": "the driver failed",
        "ja": "ドライバーでエラーが発生しました",
    },
    # usage
    "help": {
        "en": "*Usage*: `/ddi-check <appliance>` runs the DDI troubleshooting runbook "
        "(connection test, detection log query, packet capture, debug logs, reboot) in a "
        "thread. `/ddi-check escalate <appliance>` stops its open case and escalates it. "
        "`/ddi-check export <case number>` posts the case file (Markdown and JSON) in its "
        "thread. `/ddi-check list` shows the open cases and what each waits for; "
        "`/ddi-check history <appliance>` its past cases; `/ddi-check status <appliance>` its "
        "health now (the bot's probes, its syslog feed, its cases). Known appliances: {names}",
        "ja": "*使い方*: `/ddi-check <アプライアンス名>` で DDI トラブルシューティング手順"
        "（接続テスト、検出ログのクエリ、パケットキャプチャ、デバッグログ、再起動）を"
        "スレッドで実行します。`/ddi-check escalate <アプライアンス名>` で対応中のケースを"
        "中止してエスカレーションします。`/ddi-check export <ケース番号>` でケースファイル"
        "（Markdown と JSON）をそのスレッドに投稿します。`/ddi-check list` で対応中のケースと"
        "それぞれが待っているもの、`/ddi-check history <アプライアンス名>` で過去のケース、"
        "`/ddi-check status <アプライアンス名>` で現在の状態（ボットのプローブ、Syslog、ケース）を"
        "表示します。登録済みアプライアンス: {names}",
    },
    "reminder.approval": {
        "en": "⏰ Reminder: the reboot of `{appliance}` still waits for an approver; the question "
        "expires at {until} and the case is then escalated. {who}",
        "ja": "⏰ リマインダー: `{appliance}` の再起動は承認者の判断を待っています。"
        "{until} に期限切れとなり、ケースはエスカレーションされます。{who}",
    },
    "ack.exported": {
        "en": "The case file of #{case_id} (`{appliance}`) is being posted in its thread.",
        "ja": "ケース #{case_id}（`{appliance}`）のケースファイルをスレッドに投稿しています。",
    },
    "error.no_thread": {
        "en": "Case #{detail} has no thread in Slack to post its case file in.",
        "ja": "ケース #{detail} には、ケースファイルを投稿できる Slack のスレッドがありません。",
    },
    "ack.escalated": {
        "en": "Case #{case_id} for `{appliance}` is escalated and closed.",
        "ja": "`{appliance}` のケース #{case_id} をエスカレーションし、終了しました。",
    },
    "error.case_already_open.reasked": {
        "en": "What it is waiting for (its question, or the console steps) was posted again in "
        "the thread.",
        "ja": "待機中の内容（質問またはコンソールでの手順）をスレッドに再投稿しました。",
    },
    "ack.opening": {
        "en": "Opening a check of `{appliance}`…",
        "ja": "`{appliance}` のチェックを開始します…",
    },
    # the terminal demo
    "demo.recommended": {
        "en": "   (* = recommended: press Enter to take it)",
        "ja": "   （* = 推奨: Enter でそれを選びます）",
    },
    "demo.second_person": {
        "en": "   (approved as @{user}: whoever opened a case cannot approve its reboot)",
        "ja": "   （@{user} として承認: ケースを開始した本人は再起動を承認できません）",
    },
    "demo.invalid": {
        "en": "   Type a number from 1 to {count}, or press Enter for the recommended answer (*).",
        "ja": "   1〜{count} の番号を入力するか、Enter で推奨の回答（*）を選んでください。",
    },
}
