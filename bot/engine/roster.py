"""Who holds a role (``DDI_BOT_OPERATORS``, ``DDI_BOT_APPROVERS``): Slack user ids (``U…``,
``W…``) listed directly, and the members of Slack user groups (``S…``).

Group members are read through the ``Groups`` port (``usergroups.users.list`` in Slack), kept
for ``ttl`` seconds, and read again at once when someone is not found in them (they may have
just been added) unless they were read less than ``recheck_after`` seconds ago: a flood of
clicks by non-members costs one Slack call per group every few seconds at most. Concurrent
lookups of one group share one read. A group that cannot be read admits nobody new; its last
known members still count for ``stale_limit`` seconds after the last good read (five minutes),
then nobody does: someone removed from the group must not stay an approver while Slack cannot
be asked. The failure is logged once until the group reads again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)

GROUP_PREFIX = "S"
TTL = 60.0
RECHECK_AFTER = 5.0
STALE_LIMIT = 300.0


class Groups(Protocol):
    """Reads the members of a Slack user group; raises when it cannot."""

    async def members(self, group: str) -> frozenset[str]: ...


class NoGroups:
    """Without Slack (the demo): user groups have no members."""

    async def members(self, group: str) -> frozenset[str]:
        return frozenset()


def is_group(identifier: str) -> bool:
    return identifier.startswith(GROUP_PREFIX)


@dataclass
class _Read:
    members: frozenset[str]
    at: float  # clock() when read (or when a read last failed)
    good_at: float  # clock() of the last read that worked


class Roster:
    def __init__(
        self,
        groups: Groups | None = None,
        *,
        ttl: float = TTL,
        recheck_after: float = RECHECK_AFTER,
        stale_limit: float = STALE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.groups: Groups = groups if groups is not None else NoGroups()
        self.ttl, self.recheck_after, self.clock = ttl, recheck_after, clock
        self.stale_limit = stale_limit
        self._read: dict[str, _Read] = {}
        self._reading: dict[str, asyncio.Task[frozenset[str]]] = {}
        self._failing: set[str] = set()

    async def includes(self, ids: Iterable[str], user: str) -> bool:
        """Whether ``user`` is one of ``ids`` or a member of one of its groups."""
        groups = []
        for identifier in ids:
            if identifier == user:
                return True
            if is_group(identifier):
                groups.append(identifier)
        for group in groups:
            if user in await self._members(group, user):
                return True
        return False

    async def _members(self, group: str, user: str) -> frozenset[str]:
        known = self._read.get(group)
        now = self.clock()
        if known is not None:
            age = now - known.at
            if age < self.ttl and (user in known.members or age < self.recheck_after):
                return known.members
        reading = self._reading.get(group)
        if reading is None:
            reading = asyncio.ensure_future(self._fetch(group))
            self._reading[group] = reading
            reading.add_done_callback(lambda _: self._reading.pop(group, None))
        return await asyncio.shield(reading)

    async def _fetch(self, group: str) -> frozenset[str]:
        known = self._read.get(group)
        try:
            members = await self.groups.members(group)
        except Exception as exc:  # Slack down, no scope, no such group: nobody new is admitted
            if group not in self._failing:
                self._failing.add(group)
                log.warning("cannot read the members of user group %s: %s", group, exc)
            now = self.clock()
            good_at = known.good_at if known is not None else now - self.stale_limit
            fresh_enough = known is not None and now - good_at < self.stale_limit
            members = known.members if fresh_enough and known is not None else frozenset()
            self._read[group] = _Read(members, now, good_at)
            return members
        if group in self._failing:
            self._failing.discard(group)
            log.info("user group %s read again: %d members", group, len(members))
        now = self.clock()
        self._read[group] = _Read(members, now, now)
        return members
