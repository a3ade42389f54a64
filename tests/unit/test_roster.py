"""Roles that list Slack users and user groups; the two-person rule."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.engine.access import Access
from bot.engine.context import EngineConfig
from bot.engine.roster import Roster
from bot.errors import NotAuthorised, NotOperator, SelfApproval
from bot.runbook import Choice


class Directory:
    """A Slack-like directory of user groups that counts its reads and can fail."""

    def __init__(self, groups: dict[str, set[str]]) -> None:
        self.groups = groups
        self.reads: list[str] = []
        self.down = False
        self.delay = 0.0

    async def members(self, group: str) -> frozenset[str]:
        self.reads.append(group)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            raise ConnectionError("Slack is unreachable")
        if group not in self.groups:
            raise LookupError("no_such_subteam")
        return frozenset(self.groups[group])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def roster(directory: Directory, clock: Clock) -> Roster:
    return Roster(directory, ttl=60.0, recheck_after=5.0, clock=clock)


async def test_users_listed_directly_need_no_lookup() -> None:
    directory = Directory({"S1": {"U2"}})
    r = roster(directory, Clock())
    assert await r.includes({"U1", "S1"}, "U1")
    assert directory.reads == []
    assert await r.includes({"U1", "S1"}, "U2")
    assert directory.reads == ["S1"]


async def test_members_are_cached_and_a_miss_reads_again_at_most_every_few_seconds() -> None:
    directory, clock = Directory({"S1": {"U2"}}), Clock()
    r = roster(directory, clock)
    assert await r.includes({"S1"}, "U2")
    assert await r.includes({"S1"}, "U2")
    assert not await r.includes({"S1"}, "U9")  # a miss within 5 s of the read: no new read
    assert directory.reads == ["S1"]
    directory.groups["S1"].add("U9")
    clock.now += 5
    assert await r.includes({"S1"}, "U9")  # a miss after 5 s: read again, found
    assert directory.reads == ["S1", "S1"]
    clock.now += 30
    assert await r.includes({"S1"}, "U2")  # a hit within the minute: cached
    directory.groups["S1"].discard("U2")
    clock.now += 31
    assert not await r.includes({"S1"}, "U2")  # past the minute: read again, removed
    assert directory.reads == ["S1", "S1", "S1"]


async def test_concurrent_lookups_share_one_read() -> None:
    directory = Directory({"S1": {"U2"}})
    directory.delay = 0.05
    r = roster(directory, Clock())
    results = await asyncio.gather(*(r.includes({"S1"}, "U2") for _ in range(20)))
    assert all(results) and directory.reads == ["S1"]


async def test_a_group_that_cannot_be_read_admits_nobody_new(
    caplog: pytest.LogCaptureFixture,
) -> None:
    directory, clock = Directory({"S1": {"U2"}}), Clock()
    r = roster(directory, clock)
    assert await r.includes({"S1"}, "U2")
    directory.down = True
    clock.now += 61
    with caplog.at_level(logging.WARNING):
        assert await r.includes({"S1"}, "U2")  # its last known members still count
        assert not await r.includes({"S1"}, "U9")
        clock.now += 6
        assert not await r.includes({"S1"}, "U9")
    warnings = [rec for rec in caplog.records if "cannot read the members" in rec.message]
    assert len(warnings) == 1  # named once, not on every click
    clock.now += 300  # five minutes after the last good read: the old members no longer count
    assert not await r.includes({"S1"}, "U2")
    directory.down = False
    clock.now += 6
    assert await r.includes({"S1"}, "U2")  # read again
    assert not await r.includes({"S404"}, "U2")  # no such group: nobody


async def test_without_a_directory_groups_have_no_members() -> None:
    assert not await Roster().includes({"S1"}, "U2")
    assert await Roster().includes({"S1", "U2"}, "U2")


async def test_the_two_person_rule_and_who_may_approve() -> None:
    directory = Directory({"S1": {"U2"}})
    config = EngineConfig(approvers=frozenset({"U1", "S1"}), operators=frozenset({"U5"}))
    access = Access(config, roster(directory, Clock()))
    await access.check_may_decide("U2", Choice.APPROVE_REBOOT, requested_by="U5")
    with pytest.raises(SelfApproval) as refused:
        await access.check_may_decide("U2", Choice.APPROVE_REBOOT, requested_by="U2")
    assert refused.value.params["approvers"] == ["S1", "U1"]  # whoever else may
    with pytest.raises(SelfApproval) as refused:
        await access.check_may_decide("U1", Choice.APPROVE_REBOOT, requested_by="U1")
    assert refused.value.params["approvers"] == ["S1"]
    with pytest.raises(NotAuthorised) as refused:
        await access.check_may_decide("U5", Choice.APPROVE_REBOOT, requested_by="U1")
    assert not isinstance(refused.value, SelfApproval)
    await access.check_may_decide("U2", Choice.ESCALATE)  # approvers may answer anything
    with pytest.raises(NotOperator):
        await access.check_may_decide("U7", Choice.ESCALATE)
    off = Access(
        EngineConfig(approvers=frozenset({"U1"}), two_person=False), roster(directory, Clock())
    )
    await off.check_may_decide("U1", Choice.APPROVE_REBOOT, requested_by="U1")


async def test_operators_may_be_a_user_group() -> None:
    directory = Directory({"S9": {"U3"}})
    access = Access(EngineConfig(operators=frozenset({"S9"})), roster(directory, Clock()))
    assert await access.may_run("U3")
    assert not await access.may_run("U4")
    assert await Access(EngineConfig(), Roster()).may_run("anyone")
