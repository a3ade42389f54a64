"""Fleet watch: alerts, the fleet note in open cases, alert lines."""

TEXTS: dict[str, dict[str, str]] = {
    "alert.own.console": {
        "en": "🔴 *`{appliance}`: the console does not answer* (`{target}`)",
        "ja": "🔴 *`{appliance}`: コンソールが応答しません*（`{target}`）",
    },
    "alert.own.portal": {
        "en": "🔴 *`{appliance}`: portal server `{target}` unreachable from the bot*",
        "ja": "🔴 *`{appliance}`: ポータルサーバー `{target}` にボットから到達できません*",
    },
    "alert.own.silent": {
        "en": "🟠 *`{appliance}`: no syslog detection has arrived*",
        "ja": "🟠 *`{appliance}`: Syslog の検出が届いていません*",
    },
    "alert.fleet.console": {
        "en": "🚨 *Fleet alert: {count} consoles stopped answering at once*",
        "ja": "🚨 *フリートアラート: {count} 台のコンソールが同時に応答しなくなりました*",
    },
    "alert.fleet.portal": {
        "en": "🚨 *Fleet alert: portal server `{target}` unreachable, for {count} sensors*",
        "ja": "🚨 *フリートアラート: ポータルサーバー `{target}` に到達できません"
        "（{count} 台のセンサー）*",
    },
    "alert.fleet.silent": {
        "en": "🚨 *Fleet alert: {count} sensors went silent at once*",
        "ja": "🚨 *フリートアラート: {count} 台のセンサーが同時に検出を送らなくなりました*",
    },
    "alert.facts.probe": {
        "en": "Found by the bot's sweep: {detail} (since {since}).",
        "ja": "ボットの定期チェックで検出: {detail}（{since} から）。",
    },
    "alert.facts.silent": {
        "en": "Last detection {last}{usual}; silent since the sweep of {since}.",
        "ja": "最後の検出 {last}{usual}。{since} の定期チェックから無音です。",
    },
    "alert.fleet.members": {
        "en": "Sensors: {names}",
        "ja": "センサー: {names}",
    },
    "alert.fleet.cause.portal": {
        "en": "The cause is the portal or the network towards it, not the sensors: no case is "
        "opened for it, and rebooting a sensor will not help.",
        "ja": "原因はポータルまたはそこまでのネットワークで、センサーではありません。"
        "このためケースは開かれず、センサーの再起動も役に立ちません。",
    },
    "alert.fleet.cause.console": {
        "en": "The cause is most likely the network between the bot and the sensors (or the "
        "bot's own), not the sensors: no case is opened for it.",
        "ja": "原因はおそらくボットとセンサー間のネットワーク（またはボット自身）で、"
        "センサーではありません。このためケースは開かれません。",
    },
    "alert.fleet.cause.silent": {
        "en": "The cause is most likely the syslog path (network, relay, the bot's receiver), "
        "not the sensors: no case is opened for it.",
        "ja": "原因はおそらく Syslog の経路（ネットワーク、中継、ボットの受信側）で、"
        "センサーではありません。このためケースは開かれません。",
    },
    "alert.case": {
        "en": "Case #{case_id} opened by {user}.",
        "ja": "{user} がケース #{case_id} を開きました。",
    },
    "alert.closed.recovered": {
        "en": "✅ *Recovered after {took}* (at {at}):",
        "ja": "✅ *{took}後に回復しました*（{at}）:",
    },
    "alert.closed.folded": {
        "en": "➡️ *Now part of a fleet alert* in {channel} (at {at}): the cause is not this "
        "sensor alone.",
        "ja": "➡️ *{channel} のフリートアラートに統合されました*（{at}）: "
        "原因はこのセンサーだけではありません。",
    },
    "alert.closed.gone": {
        "en": "⏹️ *Closed after {took}* (at {at}): the appliance is no longer in the inventory.",
        "ja": "⏹️ *{took}後にクローズ*（{at}）: このアプライアンスはインベントリにありません。",
    },
    "alert.closed.undelivered": {
        "en": "⏹️ *Not delivered* (at {at}): raised again at the next sweep.",
        "ja": "⏹️ *配信できませんでした*（{at}）: 次の定期チェックで再度通知します。",
    },
    "alert.open_case": {"en": "Open a case", "ja": "ケースを開く"},
    "alert.note": {
        "en": "🚨 This sensor is part of a fleet alert in {channel}: {subject}. The cause is not "
        "this sensor: do not reboot it for this.",
        "ja": "🚨 このセンサーは {channel} のフリートアラートの対象です: {subject}。"
        "原因はこのセンサーではないため、これを理由に再起動しないでください。",
    },
    "alert.before_reboot": {
        "en": "⚠️ *Before you approve:* this sensor is covered by an open fleet alert ({subject})."
        " Its cause is not the sensor: a reboot will not bring it back. Consider waiting for "
        "the alert to clear, or escalating.",
        "ja": "⚠️ *承認の前に:* このセンサーは未解決のフリートアラートの対象です（{subject}）。"
        "原因はセンサーではないため、再起動しても回復しません。アラートの解消を待つか、"
        "エスカレーションを検討してください。",
    },
    "alert.line": {
        "en": "{subject} — for {took}",
        "ja": "{subject} — {took}継続",
    },
    "alert.none": {"en": "No open alert.", "ja": "未解決のアラートはありません。"},
    "alert.title": {"en": "*Open alerts ({count}):*", "ja": "*未解決のアラート（{count} 件）:*"},
    "error.alert_cleared": {
        "en": "This alert has cleared (at {at}): nothing to open a case for. Run "
        "`/ddi-check {appliance}` if you still want one.",
        "ja": "このアラートは解消済みです（{at}）。ケースが必要な場合は "
        "`/ddi-check {appliance}` を実行してください。",
    },
    "error.alert_not_found": {
        "en": "Alert {detail} is not an appliance's alert: nothing to open a case for. Run "
        "`/ddi-check <appliance>` to open one.",
        "ja": "アラート {detail} はアプライアンスのアラートではないため、ケースを開けません。"
        "`/ddi-check <アプライアンス>` で開いてください。",
    },
}
