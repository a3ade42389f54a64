"""Which alerts a sweep raises, regroups and clears (``bot.watch.correlate``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.schedule import cron_every, until_next
from bot.watch.correlate import OpenAlert, Plan, plan
from bot.watch.findings import FLEET, Condition, Finding, alert_key, fleet_key

PORTAL = "portal.example:443"
NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=120)
LONG_AGO = NOW - timedelta(days=3)


def plan_of(findings: list[Finding], open_alerts: dict[str, OpenAlert], quorum: int = 3,
            keep: frozenset[str] = frozenset()) -> Plan:  # fmt: skip
    return plan(findings, open_alerts, quorum, now=NOW, window=WINDOW, keep=keep)


def own(condition: Condition, name: str, since: datetime = NOW, target: str = "") -> OpenAlert:
    key = alert_key(condition, name, target)
    return OpenAlert(key, name, opened_at=since)


def portal(name: str, server: str = PORTAL) -> Finding:
    return Finding(name, Condition.PORTAL, server, "tcp: timeout")


def silent(name: str) -> Finding:
    return Finding(name, Condition.SILENT, since=datetime(2026, 12, 3, 1, 0, tzinfo=UTC))


def test_below_the_quorum_each_appliance_gets_its_own_alert() -> None:
    todo = plan_of([portal("a"), portal("b")], {})
    assert [f.appliance for f in todo.raise_own] == ["a", "b"]
    assert todo.raise_fleet == [] and todo.clear == []


def test_the_same_server_failing_for_the_quorum_is_one_fleet_alert_and_nothing_else() -> None:
    todo = plan_of([portal(n) for n in "abcde"], {})
    assert todo.raise_own == []
    (fleet,) = todo.raise_fleet
    assert fleet.key == fleet_key(Condition.PORTAL, PORTAL)
    assert fleet.members == frozenset("abcde") and fleet.target == PORTAL


def test_different_servers_are_different_causes() -> None:
    findings = [portal("a"), portal("b", "other:443"), portal("c", "third:443")]
    todo = plan_of(findings, {})
    assert len(todo.raise_own) == 3 and todo.raise_fleet == []


def test_an_open_alert_is_neither_raised_again_nor_cleared_while_found() -> None:
    alert = own(Condition.SILENT, "a")
    todo = plan_of([silent("a")], {alert.key: alert})
    assert todo.empty


def test_an_alert_no_longer_found_clears() -> None:
    alert = own(Condition.CONSOLE, "a")
    todo = plan_of([], {alert.key: alert})
    assert todo.clear == [alert.key] and not todo.raise_own


def test_sensors_going_silent_one_sweep_after_another_become_one_fleet_alert() -> None:
    a, b = own(Condition.SILENT, "a"), own(Condition.SILENT, "b", NOW - timedelta(minutes=10))
    todo = plan_of([silent(n) for n in "abc"], {a.key: a, b.key: b})
    (fleet,) = todo.raise_fleet
    assert fleet.members == frozenset("abc") and todo.raise_own == []
    assert todo.fold == {a.key: fleet.key, b.key: fleet.key}  # their own alerts fold into it
    assert todo.clear == []


def test_a_sensor_alerted_long_before_keeps_its_alert_and_does_not_count() -> None:
    dead = own(Condition.SILENT, "a", LONG_AGO)
    todo = plan_of([silent(n) for n in "abc"], {dead.key: dead})
    assert [f.appliance for f in todo.raise_own] == ["b", "c"]
    assert todo.raise_fleet == [] and todo.clear == [] and todo.fold == {}


def test_a_fleet_alert_takes_in_new_members_and_clears_below_the_quorum() -> None:
    key = fleet_key(Condition.SILENT)
    before = {key: OpenAlert(key, FLEET, frozenset("abc"), NOW - timedelta(minutes=30))}
    grown = plan_of([silent(n) for n in "abcd"], before)
    assert [f.members for f in grown.regroup] == [frozenset("abcd")]
    assert grown.raise_own == [] and grown.clear == []

    shrunk = plan_of([silent("d"), silent("e")], before)
    assert shrunk.clear == [key]  # two left: each is its own problem now
    assert [f.appliance for f in shrunk.raise_own] == ["d", "e"]


def test_what_a_sweep_could_not_judge_stays_open() -> None:
    alert = own(Condition.SILENT, "a")
    fleet = OpenAlert(fleet_key(Condition.PORTAL, PORTAL), FLEET, frozenset("xyz"), NOW)
    keep = frozenset({alert.key, fleet.key})
    todo = plan_of([], {alert.key: alert, fleet.key: fleet}, keep=keep)
    assert todo.empty


def test_a_server_listed_twice_counts_its_sensor_once() -> None:
    todo = plan_of([portal("a"), portal("a"), portal("b")], {})
    assert todo.raise_fleet == [] and [f.appliance for f in todo.raise_own] == ["a", "b"]


def test_conditions_are_correlated_apart() -> None:
    findings = [silent("a"), silent("b"), portal("c"), Finding("d", Condition.CONSOLE, "d:443")]
    todo = plan_of(findings, {}, 2)
    assert [f.key for f in todo.raise_fleet] == [fleet_key(Condition.SILENT)]
    assert [(f.appliance, f.condition) for f in todo.raise_own] == [
        ("d", Condition.CONSOLE),
        ("c", Condition.PORTAL),
    ]


def test_a_console_alert_is_the_appliances_whatever_its_address() -> None:
    assert alert_key(Condition.CONSOLE, "a", "10.0.0.1:443") == alert_key(Condition.CONSOLE, "a")
    assert alert_key(Condition.PORTAL, "a", "x:1") != alert_key(Condition.PORTAL, "a", "y:1")


def test_periods_become_cron_expressions_aligned_on_the_clock() -> None:
    assert cron_every(30) == "* * * * * */30"
    assert cron_every(300) == "*/5 * * * *"
    assert cron_every(3600) == "0 */1 * * *"
    assert cron_every(6 * 3600) == "0 */6 * * *"
    assert cron_every(420) is None and cron_every(7) is None and cron_every(0) is None
    assert until_next(300, 1_000_000_000.0) == 200.0  # the next :05
    assert until_next(300, 1_000_000_200.0) == 300.0


def test_one_sensor_going_in_and_out_does_not_make_the_fleet_alert_flap() -> None:
    key = fleet_key(Condition.SILENT)
    fleet = {key: OpenAlert(key, FLEET, frozenset("abc"), NOW - timedelta(minutes=30))}
    cleared = plan_of([silent("a"), silent("b")], fleet)  # c came back: a and b alone
    assert cleared.clear == [key] and cleared.after_fleet == {
        alert_key(Condition.SILENT, "a"),
        alert_key(Condition.SILENT, "b"),
    }
    own = {
        k: OpenAlert(k, k.split(":")[1], opened_at=NOW, after_fleet=True)
        for k in cleared.after_fleet
    }
    again = plan_of([silent(n) for n in "abc"], own)  # c silent again at the next sweep
    assert again.raise_fleet == [] and again.fold == {}
    assert [f.appliance for f in again.raise_own] == ["c"]


def test_a_fleet_alert_a_sweep_could_not_see_whole_stands_as_it_is() -> None:
    key = fleet_key(Condition.CONSOLE)
    fleet = {key: OpenAlert(key, FLEET, frozenset("abc"), NOW)}
    findings = [Finding(n, Condition.CONSOLE, f"{n}:443") for n in "ab"]  # c: not probed
    todo = plan_of(findings, fleet, keep=frozenset({key}))
    assert todo.empty
