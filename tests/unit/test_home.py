"""The App Home tab's content and its Block Kit view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.home import MAX_APPLIANCES, ApplianceHealth, HomeFacts, home_sections
from handlers.home import MAX_HOME_BLOCKS, home_payload
from handlers.style import SLACK

AT = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def _health(name: str, **changes: object) -> ApplianceHealth:
    values: dict[str, object] = {
        "appliance": name,
        "last_detection": AT - timedelta(minutes=1),
        "has_feed": True,
        "probes_ok": None,
        "probed_at": None,
        "open_case": None,
    }
    values.update(changes)
    return ApplianceHealth(**values)  # type: ignore[arg-type]


def _text(facts: HomeFacts, lang: str = "en") -> str:
    return "\n".join(s.text for s in home_sections(lang, facts, SLACK))


def test_a_silent_feed_and_failed_probes_come_first_and_are_marked() -> None:
    facts = HomeFacts(
        AT,
        (),
        [
            _health("a-fine"),
            _health("b-<silent>", last_detection=AT - timedelta(hours=3)),
            _health("c-probes", probes_ok=False, probed_at=AT - timedelta(minutes=9)),
            _health("d-nofeed", has_feed=False, last_detection=None),
        ],
        (),
    )
    lines = _text(facts).splitlines()
    health = [line for line in lines if line.startswith(("🟢", "🟠", "🔴"))]
    assert health[0] == "🟠 `b-&lt;silent&gt;` — *silent* since 2026-12-02 00:00 UTC"
    assert (
        health[1].startswith("🟠 `c-probes`") and "*probes failed* (2026-12-02 02:51" in health[1]
    )
    assert health[2].startswith("🟢 `a-fine` — last detection 2026-12-02 02:59 UTC")
    assert health[3] == "🟢 `d-nofeed` — no syslog feed"
    assert "*検出なし*" in _text(facts, "ja")


def test_a_large_fleet_fits_in_one_home_tab() -> None:
    fleet = [_health(f"ddi-{n:03}-" + "x" * 80) for n in range(500)]
    fleet[499] = _health("ddi-zzz-broken", probes_ok=False, probed_at=AT)
    facts = HomeFacts(AT, (), fleet, ())
    text = _text(facts)
    assert "ddi-zzz-broken" in text  # the worrying one is shown, whatever its name
    assert f"and {500 - MAX_APPLIANCES} more" in text
    payload = home_payload("en", facts)
    assert payload["type"] == "home" and len(payload["blocks"]) <= MAX_HOME_BLOCKS
    assert all(len(b["text"]["text"]) <= 3000 for b in payload["blocks"] if "text" in b)
    assert payload["blocks"][-1]["text"]["text"].startswith("Updated 2026-12-02 03:00 UTC")
