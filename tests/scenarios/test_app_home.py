"""The App Home tab, published through views.publish when someone opens it (a signed
``app_home_opened`` event against the running app)."""

from __future__ import annotations

from conftest import APPROVER, GUIDED, OPERATOR, Harness
from fakeslack import Call


def _texts(call: Call) -> str:
    blocks = call.args["view"]["blocks"]
    return "\n".join(b["text"]["text"] for b in blocks if "text" in b)


async def _open_home(h: Harness, user: str, n: int) -> Call:
    event = {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": f"{n}.0"}
    assert (await h.event(event, f"EvHome{n}")).status_code == 200
    published = await h.wait_for(lambda: len(h.slack.by("views.publish")) >= n)
    assert published
    call: Call = h.slack.by("views.publish")[n - 1]
    return call


async def test_app_home_shows_open_cases_the_fleet_and_recent_cases(harness: Harness) -> None:
    h = harness
    first = await _open_home(h, OPERATOR, 1)
    assert first.args["user_id"] == OPERATOR and first.args["view"]["type"] == "home"
    text = _texts(first)
    assert "Open cases (0)" in text and "No open cases." in text
    assert f"`{GUIDED}`" in text and "No closed case yet." in text

    await h.command("ddi-tokyo-1")
    await h.click(await h.prompt("Skip"), "Skip")
    await h.click(await h.prompt("Approve reboot"), "Reject", user=APPROVER)
    closed = await h.wait_closed("ddi-tokyo-1")
    await h.command("ddi-nagoya-3")
    await h.prompt("Quiet")
    opened = await h.case("ddi-nagoya-3")
    text = _texts(await _open_home(h, OPERATOR, 2))
    assert "Open cases (1)" in text
    assert f"#{opened.id} `ddi-nagoya-3`" in text
    assert f"🔴 `ddi-nagoya-3` — no syslog feed; case #{opened.id} open" in text
    assert f"#{closed.id} `ddi-tokyo-1`" in text and "the reboot was rejected" in text
    # the sensors in trouble come first
    health = text.split("Appliances (")[1]
    assert health.index("ddi-nagoya-3") < health.index(GUIDED)


async def test_app_home_speaks_the_users_language(harness: Harness) -> None:
    h = harness
    h.slack.locales[OPERATOR] = "ja-JP"
    text = _texts(await _open_home(h, OPERATOR, 1))
    assert "対応中のケース（0 件）" in text and "アプライアンス（" in text
    # the Messages tab is not ours to publish
    event = {"type": "app_home_opened", "user": OPERATOR, "tab": "messages", "event_ts": "9.0"}
    assert (await h.event(event, "EvHomeMessages")).status_code == 200
    await h.runtime.engine.tasks.drain()
    assert len(h.slack.by("views.publish")) == 1


async def test_the_tab_is_published_again_for_recent_viewers_when_a_case_changes(
    harness: Harness,
) -> None:
    h = harness
    tabs = h.home
    assert tabs is not None
    await _open_home(h, OPERATOR, 1)
    assert await tabs.refresh() == 1  # the first look sets the mark
    assert await tabs.refresh() == 0  # nothing changed: nothing published
    await h.command("ddi-tokyo-1")
    await h.prompt("Skip")
    assert await tabs.refresh() == 1
    text = _texts(h.slack.by("views.publish")[-1])
    assert "Open cases (1)" in text and "`ddi-tokyo-1`" in text
    assert h.slack.by("views.publish")[-1].args["user_id"] == OPERATOR
    assert await tabs.refresh() == 0
    # a viewer who has not looked for long is no longer kept up to date
    tabs.viewers[OPERATOR] -= 3600
    await h.command("ddi-nagoya-3")
    await h.prompt("Quiet")
    assert await tabs.refresh() == 0 and not tabs.viewers
