"""A case and the answers to a person are in that person's language (their Slack locale)."""

from __future__ import annotations

import asyncio

from conftest import APPROVER, OPERATOR, Harness


async def test_a_person_with_a_japanese_locale_gets_a_japanese_case(harness: Harness) -> None:
    harness.slack.locales[OPERATOR] = "ja-JP"
    answer = await harness.command("ddi-tokyo-1")
    assert answer.status_code == 200
    assert "`ddi-tokyo-1` のチェックを開始します" in answer.text
    question = await harness.wait_for(harness.slack.prompts)
    assert "デバッグログ" in str(question[0].args["blocks"])
    root = harness.root("ddi-tokyo-1")
    assert "DDI チェック — ケース" in root.args["text"]
    row = await harness.case("ddi-tokyo-1")
    assert row.lang == "ja"
    looked_up = harness.slack.by("users.info")
    assert [call.args["user"] for call in looked_up] == [OPERATOR]


async def test_another_locale_is_english_and_no_locale_is_the_default(harness: Harness) -> None:
    harness.slack.locales[APPROVER] = "fr-FR"
    help_fr = await harness.command("help", user=APPROVER)
    help_unknown = await harness.command("help", user="U0NOLOCALE")
    assert "/ddi-check <appliance>" in help_fr.text
    assert "/ddi-check <appliance>" in help_unknown.text  # DDI_BOT_LANG (en here)
    again = await harness.command("help", user=APPROVER)
    assert again.text == help_fr.text
    users = [call.args["user"] for call in harness.slack.by("users.info")]
    assert users == [APPROVER, "U0NOLOCALE"]  # each asked once, then kept


async def test_checks_arriving_together_share_one_look_up(harness: Harness) -> None:
    harness.slack.locales[OPERATOR] = "ja-JP"
    harness.slack.slow["users.info"] = [0.3]  # answered late: the others arrive meanwhile
    answers = await asyncio.gather(*(harness.command("help") for _ in range(5)))
    assert all("*使い方*" in a.text for a in answers)  # every one in Japanese
    assert len(harness.slack.by("users.info")) == 1
