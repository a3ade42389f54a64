"""Files posted in a case thread: what the bot says about each."""

TEXTS: dict[str, dict[str, str]] = {
    "error.upload": {
        "en": "The file cannot be used: {detail}",
        "ja": "ファイルを使用できません: {detail}",
    },
    "upload.received": {
        "en": "Received `{name}` ({size}) from {user}; reading it…",
        "ja": "{user} から `{name}` ({size}) を受け取りました。読み込んでいます…",
    },
    "upload.too_large": {
        "en": "`{name}` is {size}; files over {limit} MB are not accepted "
        "(DDI_BOT_MAX_UPLOAD_MB). Send it to the vendor by FTP instead.",
        "ja": "`{name}` は {size} です。{limit} MB を超えるファイルは受け付けません "
        "(DDI_BOT_MAX_UPLOAD_MB)。ベンダーへは FTP で送ってください。",
    },
    "upload.not_expected": {
        "en": "`{name}` was not used: the case is not waiting for a file now.",
        "ja": "`{name}` は使用しません: このケースは現在ファイルを待っていません。",
    },
    "upload.not_operator": {
        "en": "`{name}` was not used: {user} is not allowed to run checks.",
        "ja": "`{name}` は使用しません: {user} にはチェックを実行する権限がありません。",
    },
    "upload.failed": {
        "en": "`{name}` could not be used: {detail}",
        "ja": "`{name}` を使用できません: {detail}",
    },
    "upload.already_answered": {
        "en": "`{name}` arrived after this step was answered; it was not used.",
        "ja": "`{name}` はこのステップの回答後に届いたため、使用しません。",
    },
    "upload.not_a_bundle": {
        "en": "`{name}` is a picture, a capture or a CSV, not the debug log bundle; post the "
        "exported bundle instead.",
        "ja": "`{name}` は画像・キャプチャ・CSV のいずれかで、デバッグログではありません。"
        "エクスポートしたファイルを投稿してください。",
    },
    "upload.reason.html": {
        "en": "Slack sent a web page instead of the file; the app needs the files:read scope",
        "ja": "Slack がファイルではなく Web ページを返しました。"
        "アプリに files:read スコープが必要です",
    },
    "upload.reason.http": {
        "en": "Slack could not deliver the file ({detail})",
        "ja": "Slack からファイルを取得できませんでした ({detail})",
    },
    "upload.reason.host": {
        "en": "the file's address is not on Slack, so the bot does not send its token there",
        "ja": "ファイルのアドレスが Slack 上にないため、ボットはトークンを送りません",
    },
    "upload.reason.external": {
        "en": "it is a link to another service or a snippet, not a file posted in Slack",
        "ja": "他のサービスへのリンクかスニペットであり、Slack に投稿されたファイルではありません",
    },
    "upload.reason.no_url": {
        "en": "Slack gave no download address for it",
        "ja": "Slack がダウンロード先を返しませんでした",
    },
    "upload.gone": {
        "en": "`{name}` was deleted from Slack before the bot could read it; post it again.",
        "ja": "`{name}` はボットが読み込む前に Slack から削除されました。"
        "もう一度投稿してください。",
    },
    "upload.size": {"en": "{mb} MB", "ja": "{mb} MB"},
    "upload.size.kb": {"en": "{kb} KB", "ja": "{kb} KB"},
}
