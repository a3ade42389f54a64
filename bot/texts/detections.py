"""Texts of runbook step 2: what a detection log export holds, and why one cannot be read."""

TEXTS: dict[str, dict[str, str]] = {
    "detections.title.found": {
        "en": ":mag: *{count} detections* from {start} to {end}.",
        "ja": ":mag: {start} から {end} までの検出は *{count} 件* です。",
    },
    "detections.title.none": {
        "en": ":zero: *No detections* from {start} to {end}.",
        "ja": ":zero: {start} から {end} までの検出は *ありません*。",
    },
    "detections.title.unchecked": {
        "en": ":warning: *{count} detections.* The export has no detection time column, so "
        "every row is counted and the period ({start} to {end}) could not be checked.",
        "ja": ":warning: *検出 {count} 件。* エクスポートに検出日時の列がないため、すべての行を"
        "数えました。期間 ({start} から {end}) は確認できていません。",
    },
    "detections.by_severity": {"en": "*By severity*", "ja": "*重大度別*"},
    "detections.by_type": {"en": "*By type*", "ja": "*種類別*"},
    "detections.more": {
        "en": "…and {labels} more ({count} detections)",
        "ja": "…ほか {labels} 種類 ({count} 件)",
    },
    "detections.overflow": {
        "en": "…and {count} detections with further labels (too many different labels to list)",
        "ja": "…ほか {count} 件 (ラベルの種類が多すぎるため一覧にできません)",
    },
    "detections.blank": {"en": "(blank)", "ja": "(空欄)"},
    "detections.severity.high": {"en": "High", "ja": "高"},
    "detections.severity.medium": {"en": "Medium", "ja": "中"},
    "detections.severity.low": {"en": "Low", "ja": "低"},
    "detections.severity.informational": {"en": "Informational", "ja": "情報"},
    "detections.outside": {
        "en": "{count} rows fall outside the period and are not counted.",
        "ja": "{count} 行は期間外のため数えていません。",
    },
    "detections.unreadable": {
        "en": ":warning: {count} rows have a detection time that could not be read; "
        "they are not counted.",
        "ja": ":warning: {count} 行は検出日時を読み取れなかったため数えていません。",
    },
    "detections.malformed": {
        "en": ":warning: {count} rows lack a column we need and are not counted.",
        "ja": ":warning: {count} 行は必要な列が欠けているため数えていません。",
    },
    "detections.span": {
        "en": "Detections in the file run from {first} to {last}.",
        "ja": "ファイル内の検出日時は {first} から {last} までです。",
    },
    "detections.source": {
        "en": "_Read {rows} rows as {encoding}, {delimiter} separated._",
        "ja": "_{rows} 行を {encoding}・{delimiter}区切りとして読み取りました。_",
    },
    "detections.delimiter.comma": {"en": "comma", "ja": "カンマ"},
    "detections.delimiter.tab": {"en": "tab", "ja": "タブ"},
    "detections.delimiter.semicolon": {"en": "semicolon", "ja": "セミコロン"},
    # errors (``bot.detections.errors``); {detail} comes from the file and is escaped
    "detections.error": {
        "en": "The detection log export cannot be read: {detail}",
        "ja": "検出ログのエクスポートを読み取れません: {detail}",
    },
    "detections.error.empty": {
        "en": "The uploaded file is empty. Export the detection log again "
        "(Logs > Detection Log Query > Export) and upload the CSV file.",
        "ja": "アップロードされたファイルは空です。検出ログをもう一度エクスポートし"
        "([ログ] > [検出ログのクエリ] > [エクスポート])、CSVファイルをアップロードしてください。",
    },
    "detections.error.binary": {
        "en": "The uploaded file is not text ({detail}). Upload the CSV file exported from "
        "Logs > Detection Log Query, not a screenshot or an archive.",
        "ja": "アップロードされたファイルはテキストではありません ({detail})。スクリーンショットや"
        "圧縮ファイルではなく、[ログ] > [検出ログのクエリ] からエクスポートしたCSVファイルを"
        "アップロードしてください。",
    },
    "detections.error.no_header": {
        "en": "This does not look like a detection log export: no header with a detection time "
        "or severity column was found near the top. The file starts with: `{detail}`",
        "ja": "検出ログのエクスポートではないようです。先頭付近に検出日時または重大度の列を含む"
        "見出し行が見つかりません。ファイルの先頭: `{detail}`",
    },
    "detections.error.too_large": {
        "en": "The row starting at line {detail} is larger than any real export row; "
        "the file looks damaged.",
        "ja": "{detail} 行目から始まる行が実際のエクスポートではありえない大きさです。"
        "ファイルが破損しているようです。",
    },
}
