"""Which alerts a sweep raises, changes and clears. Pure.

The rule: the same condition on at least ``quorum`` appliances in one sweep (the same portal
server unreachable; consoles unreachable; feeds gone silent) is one *fleet* alert, whose cause
is outside the sensors (the portal, the network, the syslog path): no alert of its own for any
of them, so no case and never a reboot for it. An appliance that already has its own alert for
the condition keeps it (it was alone when it started) and does not count towards a fleet.
Below the quorum, each appliance gets its own alert. A fleet alert clears once fewer than the
quorum are left in its condition; those still in it then get their own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.watch.findings import FLEET, Condition, Finding, fleet_key, key_of


@dataclass(frozen=True)
class OpenAlert:
    """An alert raised by an earlier sweep, not yet cleared."""

    key: str
    appliance: str  # ``FLEET`` for a fleet alert
    members: frozenset[str] = frozenset()  # a fleet alert: the appliances it stands for


@dataclass(frozen=True)
class FleetAlert:
    key: str
    condition: Condition
    target: str  # the portal server; "" for consoles or silence
    members: frozenset[str]
    findings: tuple[Finding, ...]  # one per member, by appliance


@dataclass(frozen=True)
class Plan:
    raise_own: list[Finding] = field(default_factory=list)  # new per-appliance alerts
    raise_fleet: list[FleetAlert] = field(default_factory=list)
    regroup: list[FleetAlert] = field(default_factory=list)  # open fleet alerts, new members
    clear: list[str] = field(default_factory=list)  # keys of open alerts no longer found

    @property
    def empty(self) -> bool:
        return not (self.raise_own or self.raise_fleet or self.regroup or self.clear)


def _groups(findings: Iterable[Finding]) -> dict[tuple[Condition, str], list[Finding]]:
    """Findings that share a cause: a portal server's (by server), every console's, every
    silence."""
    groups: dict[tuple[Condition, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        target = finding.target if finding.condition == Condition.PORTAL else ""
        groups[(finding.condition, target)].append(finding)
    return groups


def plan(findings: Iterable[Finding], open_alerts: Mapping[str, OpenAlert], quorum: int) -> Plan:
    """What to do about this sweep's ``findings``, given the alerts still open."""
    result = Plan()
    found: set[str] = set()  # keys of the alerts that this sweep keeps open
    for (condition, target), group in sorted(_groups(findings).items()):
        own = [f for f in group if key_of(f) in open_alerts]
        found.update(key_of(f) for f in own)
        rest = sorted((f for f in group if key_of(f) not in open_alerts), key=key_of)
        key = fleet_key(condition, target)
        if len(rest) >= quorum:
            members = frozenset(f.appliance for f in rest)
            fleet = FleetAlert(key, condition, target, members, tuple(rest))
            found.add(key)
            before = open_alerts.get(key)
            if before is None:
                result.raise_fleet.append(fleet)
            elif before.members != members:
                result.regroup.append(fleet)
            continue
        for finding in rest:
            result.raise_own.append(finding)
            found.add(key_of(finding))
    result.clear.extend(sorted(key for key in open_alerts if key not in found))
    return result


def is_fleet(alert: OpenAlert) -> bool:
    return alert.appliance == FLEET
