"""Recognise the columns of a detection log export, whatever the console language.

Trend Micro does not publish the export's exact headers, so each role accepts the names the
DDI, Threat Discovery Appliance, Control Manager and Deep Discovery Director consoles show for
the same data in English and Japanese, plus common spellings. Names are compared after NFKC
(full-width letters become ASCII), case folding and dropping everything but letters and digits,
so "Source IP", "source_ip" and "ＳｏｕｒｃｅＩＰ" are one name. Earlier names win when a file
has several columns for one role (a "Threat Type" column beats a generic "Type").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from bot.detections.model import Role

SYNONYMS: dict[Role, tuple[str, ...]] = {
    Role.TIME: (
        "Detection Time", "Detected Time", "Detection Date", "Detected", "Detected At",
        "Date and Time", "Date/Time", "Timestamp", "Time Stamp", "Event Time", "Log Time",
        "Logged", "Generated", "Time Generated", "Received", "Received Time", "Occurred",
        "Date", "Time",
        "検出日時", "検出時刻", "検出時間", "検出日", "日時", "発生日時", "ログ日時", "記録日時",
        "受信日時", "生成日時", "タイムスタンプ", "日付", "時刻",
    ),
    Role.SEVERITY: (
        "Severity", "Detection Severity", "Threat Severity", "Severity Level", "Risk Level",
        "Risk", "Sev",
        "重大度", "検出の重大度", "脅威の重大度", "重大度レベル", "重要度", "深刻度", "危険度",
        "リスクレベル", "リスク", "脅威レベル",
    ),
    Role.TYPE: (
        "Threat Type", "Threat Category", "Detection Type", "Event Type", "Category", "Type",
        "脅威の種類", "脅威タイプ", "脅威の分類", "脅威カテゴリ", "検出の種類", "検出タイプ",
        "イベントの種類", "カテゴリ", "種類", "タイプ",
    ),
    Role.NAME: (
        "Threat Name", "Detection Name", "Malware Name", "Virus Name", "Threat Description",
        "Rule Name", "Threat", "Description", "Name",
        "脅威名", "検出名", "不正プログラム名", "ウイルス名", "脅威の詳細", "脅威の説明",
        "ルール名", "脅威", "説明",
    ),
    Role.SOURCE: (
        "Source IP", "Source IP Address", "Src IP", "Source Address", "Source Host", "Source",
        "Src",
        "送信元IP", "送信元IPアドレス", "送信元アドレス", "送信元ホスト", "送信元", "発信元IP",
    ),
    Role.DESTINATION: (
        "Destination IP", "Destination IP Address", "Dst IP", "Dest IP", "Destination Address",
        "Destination Host", "Destination", "Dst",
        "送信先IP", "送信先IPアドレス", "宛先IP", "宛先IPアドレス", "送信先アドレス",
        "宛先アドレス", "送信先ホスト", "宛先ホスト", "送信先", "宛先",
    ),
    Role.PROTOCOL: ("Protocol", "Proto", "Application Protocol", "プロトコル"),
    Role.DIRECTION: (
        "Direction", "Traffic Direction", "方向", "通信方向", "トラフィックの方向",
    ),
}  # fmt: skip


def normalise(name: str) -> str:
    """The form header names are compared in: NFKC, case-folded, letters and digits only."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", name).casefold() if ch.isalnum())


def _index() -> dict[str, tuple[Role, int]]:
    index: dict[str, tuple[Role, int]] = {}
    for role, names in SYNONYMS.items():
        for rank, name in enumerate(names):
            key = normalise(name)
            if key in index:
                if index[key][0] is not role:
                    raise RuntimeError(f"column name {name!r} is a synonym of two roles")
                continue
            index[key] = (role, rank)
    return index


_INDEX = _index()
_ANCHORS = (Role.TIME, Role.SEVERITY)
_MAX_HEADER_LENGTH = 200  # longer cells are not column names


@dataclass(frozen=True)
class ColumnMap:
    """Where each recognised role is: its column index and the header as the file spells it."""

    positions: tuple[tuple[Role, int, str], ...]

    def index(self, role: Role) -> int | None:
        return next((i for r, i, _ in self.positions if r is role), None)

    @property
    def recognised(self) -> int:
        return len(self.positions)

    @property
    def is_header(self) -> bool:
        """A detection time or severity column and at least one other known column."""
        roles = {r for r, _, _ in self.positions}
        return bool(roles & set(_ANCHORS)) and len(roles) >= 2


def match_columns(cells: Sequence[str]) -> ColumnMap:
    """Assign each role the best-ranked column that names it; unknown columns are ignored."""
    best: dict[Role, tuple[int, int, str]] = {}  # role -> (rank, index, header)
    for index, cell in enumerate(cells):
        header = cell.strip().strip("\ufeff").strip()
        if not header or len(header) > _MAX_HEADER_LENGTH:
            continue
        found = _INDEX.get(normalise(header))
        if found is None:
            continue
        role, rank = found
        if role not in best or rank < best[role][0]:
            best[role] = (rank, index, header)
    ordered = sorted(best.items(), key=lambda item: item[1][1])
    return ColumnMap(tuple((role, index, header) for role, (_, index, header) in ordered))
