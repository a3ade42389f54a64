"""The inventory: which appliances exist and how to reach each one (a YAML file)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import InventoryError, UnknownAppliance

SCENARIOS = ("healthy", "tmsp-down", "quiet", "no-traffic", "unreachable", "reboot-fails")
DEFAULT_DRIVER = "guided"
MAX_NAME = 200  # the database column's length

_KNOWN_FIELDS = {
    "name",
    "driver",
    "scenario",
    "simulator_url",
    "console",
    "tls_fingerprint",
    "tls_ca_file",
    "site",
    "channel",
}


@dataclass(frozen=True)
class Appliance:
    name: str
    driver: str = DEFAULT_DRIVER
    scenario: str | None = None  # simulated appliances only
    simulator_url: str | None = None  # None: served by the simulator embedded in the bot
    console: str | None = None
    tls_fingerprint: str | None = None
    tls_ca_file: str | None = None
    site: str | None = None
    channel: str | None = None


@dataclass(frozen=True)
class Inventory:
    appliances: tuple[Appliance, ...]

    def get(self, name: str) -> Appliance:
        wanted = name.strip()
        for appliance in self.appliances:
            if appliance.name == wanted:
                return appliance
        for appliance in self.appliances:
            if appliance.name.casefold() == wanted.casefold():
                return appliance
        raise UnknownAppliance(wanted, name=wanted, suggestions=self.close_matches(wanted))

    def close_matches(self, name: str, limit: int = 3) -> list[str]:
        names = [a.name for a in self.appliances]
        lowered = {n.casefold(): n for n in names}
        found = difflib.get_close_matches(name.casefold(), list(lowered), n=limit, cutoff=0.5)
        matches = [lowered[f] for f in found]
        for n in names:  # substrings too: "tokyo" should find "ddi-tokyo-1"
            if name and name.casefold() in n.casefold() and n not in matches:
                matches.append(n)
        return matches[:limit]

    def simulated(self) -> list[Appliance]:
        return [a for a in self.appliances if a.driver == "simulated"]


def parse_inventory(data: Any, source: str = "inventory") -> Inventory:
    """Validate parsed YAML; errors name the source and the entry so an operator can fix it."""
    if not isinstance(data, Mapping) or not isinstance(data.get("appliances"), list):
        raise InventoryError(f"{source}: expected a mapping with an 'appliances' list")
    seen: set[str] = set()
    appliances: list[Appliance] = []
    for index, entry in enumerate(data["appliances"], start=1):
        where = f"{source}: appliance #{index}"
        if not isinstance(entry, Mapping):
            raise InventoryError(f"{where}: expected a mapping, got {type(entry).__name__}")
        unknown = sorted(set(map(str, entry)) - _KNOWN_FIELDS)
        if unknown:
            raise InventoryError(f"{where}: unknown field(s) {', '.join(unknown)}")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise InventoryError(f"{where}: 'name' is required and must be a non-empty string")
        if len(name) > MAX_NAME:
            raise InventoryError(f"{where}: 'name' is longer than {MAX_NAME} characters")
        if name in seen:
            raise InventoryError(f"{where}: duplicate name {name!r}")
        seen.add(name)
        fields = {k: _string(entry, k, where) for k in _KNOWN_FIELDS - {"name"}}
        driver = fields.pop("driver") or DEFAULT_DRIVER
        scenario = fields.pop("scenario")
        if driver == "simulated":
            scenario = scenario or "healthy"
            if scenario not in SCENARIOS:
                raise InventoryError(
                    f"{where} ({name}): unknown scenario {scenario!r}; "
                    f"choose one of {', '.join(SCENARIOS)}"
                )
        elif scenario is not None:
            raise InventoryError(f"{where} ({name}): 'scenario' only applies to driver simulated")
        appliances.append(Appliance(name=name, driver=driver, scenario=scenario, **fields))
    return Inventory(tuple(appliances))


def _string(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int):
        raise InventoryError(f"{where}: {key!r} must be a string")
    if len(str(value)) > MAX_NAME:
        raise InventoryError(f"{where}: {key!r} is longer than {MAX_NAME} characters")
    return str(value)


def load_inventory(path: Path) -> Inventory:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(f"cannot read inventory {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise InventoryError(f"{path}:{line} is not valid YAML: {exc}") from exc
    return parse_inventory(data, str(path))


def demo_inventory(scenarios: Iterable[str] = SCENARIOS) -> Inventory:
    """The built-in fleet used when no inventory file is configured: one appliance per scenario."""
    return Inventory(
        tuple(Appliance(name=f"ddi-{s}", driver="simulated", scenario=s) for s in scenarios)
    )
