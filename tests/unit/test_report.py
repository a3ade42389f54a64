"""The vendor report: state and timeline facts, in both languages, with outside text escaped."""

from __future__ import annotations

from dataclasses import replace

from bot.presenter import CaseView
from bot.report import facts_from, vendor_report
from bot.runbook import CaseState, Phase
from handlers.style import SLACK


def _view(lang: str = "en") -> CaseView:
    state = replace(
        CaseState(Phase.ESCALATED),
        connection_message="Unable to connect <!here>",
        detections=0,
    )
    return CaseView(7, "ddi-osaka-2", "U1", lang, state, 9)


EVENTS = [
    ("maintenance", {"answer": "unknown", "notes": ""}),
    ("maintenance", {"answer": "yes", "notes": "firewall change <@U2>"}),  # the latest counts
    (
        "probes",
        {
            "ok": False,
            "console": {"target": "192.0.2.10:443", "ok": True, "failure": None,
                        "sha256": "AB:CD", "pin": "mismatch", "subject": "CN=x"},
            "tmsp": {"log.tmsp.example.net:443": "refused"},
        },
    ),
    ("artifact", {"name": "debug.tar.gz", "size": 12, "sha256": "ff" * 32}),
    ("decision", {"choice": "escalate"}),
]  # fmt: skip


def test_the_report_carries_the_maintenance_answer_probes_and_files() -> None:
    text = vendor_report(_view(), SLACK, 0, facts_from(EVENTS)).text
    assert "Network maintenance around that time: Yes — firewall change &lt;@U2&gt;" in text
    assert "console `192.0.2.10:443` OK, SHA-256 `AB:CD` (mismatch)" in text
    assert "`log.tmsp.example.net:443` refused" in text
    assert f"`debug.tar.gz` (12 bytes), SHA-256 `{'ff' * 32}`" in text
    assert "Unable to connect &lt;!here&gt;" in text


def test_without_facts_the_report_says_what_is_not_known() -> None:
    text = vendor_report(_view("ja"), SLACK, 1).text
    assert "その時間帯のネットワークメンテナンス: 不明" in text
    assert "ボットによるネットワーク確認: 未実施" in text
