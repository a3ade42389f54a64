"""The bot's own network probes of a sensor: console and TMSP servers, certificate, pin, trust."""

TEXTS: dict[str, dict[str, str]] = {
    "probe.title": {
        "en": "*Network checks from the bot*",
        "ja": "*ボットからのネットワークチェック*",
    },
    "probe.console.line": {
        "en": "{icon} Console {target} — {steps}",
        "ja": "{icon} 管理コンソール {target} — {steps}",
    },
    "probe.console.none": {
        "en": "ℹ️ No console address in the inventory: the console was not checked.",
        "ja": "ℹ️ インベントリに管理コンソールのアドレスがないため、確認していません。",
    },
    "probe.tmsp.title": {"en": "TMSP servers:", "ja": "TMSP サーバー:"},
    "probe.tmsp.line": {"en": "{icon} {target} — {steps}", "ja": "{icon} {target} — {steps}"},
    "probe.tmsp.none": {
        "en": "ℹ️ No TMSP servers in the inventory for this sensor: none were checked.",
        "ja": "ℹ️ インベントリにこのセンサーの TMSP サーバーがないため、確認していません。",
    },
    # one probe inside a line
    "probe.kind.dns": {"en": "DNS", "ja": "DNS"},
    "probe.kind.tcp": {"en": "TCP", "ja": "TCP"},
    "probe.kind.tls": {"en": "TLS", "ja": "TLS"},
    "probe.kind.banner": {"en": "SSH banner", "ja": "SSH バナー"},
    "probe.step.ok": {"en": "{kind} {ms} ms", "ja": "{kind} {ms} ms"},
    "probe.step.failed": {
        "en": "{kind}: {failure} ({detail})",
        "ja": "{kind}: {failure}（{detail}）",
    },
    "probe.failure.dns_failed": {"en": "name not resolved", "ja": "名前解決に失敗"},
    "probe.failure.refused": {"en": "connection refused", "ja": "接続拒否"},
    "probe.failure.timeout": {"en": "timed out", "ja": "タイムアウト"},
    "probe.failure.unreachable": {"en": "unreachable", "ja": "到達不能"},
    "probe.failure.tls_failed": {"en": "handshake failed", "ja": "ハンドシェイク失敗"},
    "probe.failure.closed": {"en": "closed by the server", "ja": "サーバーが切断"},
    # the console's certificate
    "probe.cert.subject": {
        "en": "Certificate {subject}, issued by {issuer}",
        "ja": "証明書 {subject}（発行者 {issuer}）",
    },
    "probe.cert.self_signed": {
        "en": "Certificate {subject} (self-signed)",
        "ja": "証明書 {subject}（自己署名）",
    },
    "probe.cert.unreadable": {
        "en": "⚠️ The certificate could not be read: {detail}",
        "ja": "⚠️ 証明書を読み取れませんでした: {detail}",
    },
    "probe.cert.expires": {
        "en": "{icon} Valid until {date} ({days} days left)",
        "ja": "{icon} 有効期限 {date}（残り {days} 日）",
    },
    "probe.cert.expired": {
        "en": "❌ *Expired* on {date} ({days} days ago)",
        "ja": "❌ *期限切れ*: {date}（{days} 日前）",
    },
    "probe.cert.not_yet_valid": {
        "en": "⚠️ Not valid before {date}: check the clocks",
        "ja": "⚠️ {date} より前は無効です。時刻を確認してください",
    },
    "probe.cert.fingerprint": {"en": "SHA-256 {fingerprint}", "ja": "SHA-256 {fingerprint}"},
    "probe.pin.matches": {
        "en": "✅ Matches the fingerprint pinned in the inventory",
        "ja": "✅ インベントリに登録されたフィンガープリントと一致",
    },
    "probe.pin.not_pinned": {
        "en": "ℹ️ No fingerprint pinned in the inventory",
        "ja": "ℹ️ インベントリにフィンガープリントが登録されていません",
    },
    "probe.pin.mismatch": {
        "en": "🚨 *The certificate does NOT match the fingerprint pinned in the inventory.* "
        "This may not be the sensor (an impostor, or a replaced certificate): check before "
        "entering any password. Pinned {pinned}",
        "ja": "🚨 *証明書がインベントリに登録されたフィンガープリントと一致しません。* "
        "センサー以外の機器（なりすまし、または証明書の差し替え）の可能性があります。"
        "パスワードを入力する前に確認してください。登録値 {pinned}",
    },
    # whether the certificate is trusted
    "probe.trust.system": {"en": "system trust store", "ja": "システムの信頼ストア"},
    "probe.trust.ca_file": {"en": "CA file {path}", "ja": "CA ファイル {path}"},
    "probe.trust.verified": {
        "en": "✅ Trusted ({source})",
        "ja": "✅ 信頼済み（{source}）",
    },
    "probe.trust.name_mismatch": {
        "en": "⚠️ Trusted ({source}), but not issued for {target}; it names {names}",
        "ja": "⚠️ 信頼済み（{source}）ですが {target} 向けではありません。記載名 {names}",
    },
    "probe.trust.untrusted": {
        "en": "{icon} Not trusted ({source}): {detail}",
        "ja": "{icon} 信頼されていません（{source}）: {detail}",
    },
    "probe.trust.unknown": {
        "en": "{icon} Trust could not be checked ({source}): {detail}",
        "ja": "{icon} 信頼性を確認できませんでした（{source}）: {detail}",
    },
}
