"""Which alerts a sweep raises, changes and clears. Pure.

The rule: the same condition on at least ``quorum`` appliances at once (the same portal server
unreachable; consoles unreachable; feeds gone silent) is one *fleet* alert, whose cause is
outside the sensors (the portal, the network, the syslog path): no alert of its own for any of
them, so no case and never a reboot for it.

"At once" is within ``window`` (the silence limit, by default: feeds cross it at different
sweeps, as their last detections differ): an appliance counts towards a fleet when its
condition is new at this sweep, or its own alert was raised within the window; its own alert is
then *folded* into the fleet alert (closed, saying so). An appliance whose own alert is older
keeps it and does not count (a sensor dead for days is not part of tonight's outage). Below the
quorum each appliance gets its own alert. A fleet alert clears once fewer than the quorum are
left in its condition; those still in it then get their own.

An open alert that the sweep could not judge (``keep``: nobody listened to the syslog feed, a
probe could not run) is left as it is, neither cleared nor counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.watch.findings import Condition, Finding, fleet_key, key_of


@dataclass(frozen=True)
class OpenAlert:
    """An alert raised by an earlier sweep, not yet cleared."""

    key: str
    appliance: str  # ``FLEET`` for a fleet alert
    members: frozenset[str] = frozenset()  # a fleet alert: the appliances it stands for
    opened_at: datetime | None = None
    after_fleet: bool = False  # raised as a fleet alert cleared: its sensor is its own problem


@dataclass(frozen=True)
class FleetAlert:
    key: str
    condition: Condition
    target: str  # the portal server; "" for consoles or silence
    members: frozenset[str]
    findings: tuple[Finding, ...]  # one per member, by appliance


@dataclass
class Plan:
    raise_own: list[Finding] = field(default_factory=list)  # new per-appliance alerts
    raise_fleet: list[FleetAlert] = field(default_factory=list)
    regroup: list[FleetAlert] = field(default_factory=list)  # open fleet alerts, new members
    clear: list[str] = field(default_factory=list)  # keys of open alerts no longer found
    fold: dict[str, str] = field(default_factory=dict)  # own alert's key -> its fleet's key
    after_fleet: set[str] = field(default_factory=set)  # raise_own keys left by a fleet alert

    @property
    def empty(self) -> bool:
        return not (self.raise_own or self.raise_fleet or self.regroup or self.clear or self.fold)


def _groups(findings: Iterable[Finding]) -> dict[tuple[Condition, str], list[Finding]]:
    """Findings that share a cause: a portal server's (by server), every console's, every
    silence. One finding per appliance in a group (an inventory may list a server twice)."""
    groups: dict[tuple[Condition, str], dict[str, Finding]] = defaultdict(dict)
    for finding in findings:
        target = finding.target if finding.condition == Condition.PORTAL else ""
        groups[(finding.condition, target)].setdefault(finding.appliance, finding)
    return {cause: list(by_name.values()) for cause, by_name in groups.items()}


def plan(
    findings: Iterable[Finding],
    open_alerts: Mapping[str, OpenAlert],
    quorum: int,
    *,
    now: datetime,
    window: timedelta,
    keep: frozenset[str] = frozenset(),
) -> Plan:
    """What to do about this sweep's ``findings``, given the alerts still open."""
    result = Plan()
    found: set[str] = set(keep)  # keys of the alerts that this sweep keeps open

    def recent(finding: Finding) -> bool:
        """Whether the appliance counts towards a fleet: its condition is new, or its own
        alert is younger than the window (and was not what a fleet alert left behind: one
        sensor going in and out of a condition must not raise and clear the fleet alert of
        the others at every sweep)."""
        before = open_alerts.get(key_of(finding))
        if before is None:
            return True
        if before.after_fleet or before.opened_at is None:
            return False
        return now - before.opened_at <= window

    for (condition, target), group in sorted(_groups(findings).items()):
        counted = sorted((f for f in group if recent(f)), key=key_of)
        elder = [f for f in group if not recent(f)]
        found.update(key_of(f) for f in elder)
        key = fleet_key(condition, target)
        if key in keep:  # the fleet alert stands as it is: some of it could not be seen
            found.update(key_of(f) for f in counted if key_of(f) in open_alerts)
            continue
        if len(counted) >= quorum:
            members = frozenset(f.appliance for f in counted)
            fleet = FleetAlert(key, condition, target, members, tuple(counted))
            found.add(key)
            before = open_alerts.get(key)
            if before is None:
                result.raise_fleet.append(fleet)
            elif before.members != members:
                result.regroup.append(fleet)
            for finding in counted:
                if key_of(finding) in open_alerts:
                    result.fold[key_of(finding)] = key
            continue
        for finding in counted:
            found.add(key_of(finding))
            if key_of(finding) not in open_alerts:
                result.raise_own.append(finding)
                if key in open_alerts:  # the fleet alert clears: what is left is their own
                    result.after_fleet.add(key_of(finding))
    result.clear.extend(
        sorted(key for key in open_alerts if key not in found and key not in result.fold)
    )
    return result
