"""The inventory: which appliances exist and how to reach each one (a YAML file)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError, InventoryError, UnknownAppliance
from bot.sensor_ids import normalise_id, unusable_reason

SCENARIOS = ("healthy", "tmsp-down", "quiet", "no-traffic", "unreachable", "reboot-fails")
DEFAULT_DRIVER = "guided"
MAX_NAME = 200  # the database column's length

_STRING_FIELDS = (
    "driver",
    "scenario",
    "simulator_url",
    "console",
    "tls_fingerprint",
    "tls_ca_file",
    "capture_interface",
    "site",
    "channel",
)
_LIST_FIELDS = ("tmsp_servers", "syslog_ids")
_KNOWN_FIELDS = {"name", *_STRING_FIELDS, *_LIST_FIELDS}
_SECRET_HINTS = ("password", "passwd", "secret", "token", "api_key", "apikey", "credential")
_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
MAX_LIST = 50  # TMSP servers or syslog identifiers of one appliance


@dataclass(frozen=True)
class Appliance:
    name: str
    driver: str = DEFAULT_DRIVER
    scenario: str | None = None  # simulated appliances only
    simulator_url: str | None = None  # None: served by the simulator embedded in the bot
    console: str | None = None  # web console, host or host:port (HTTPS)
    tls_fingerprint: str | None = None  # pinned SHA-256 of a self-signed console certificate
    tls_ca_file: str | None = None  # PEM file to verify the console certificate against
    tmsp_servers: tuple[str, ...] = ()  # host:port the sensor must reach (log, status, proxy)
    syslog_ids: tuple[str, ...] = ()  # sender address, dvchost or device GUID in its syslog
    capture_interface: str | None = None
    site: str | None = None
    channel: str | None = None  # where scheduled checks and alerts for it go


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


@dataclass(frozen=True)
class _Where:
    """Names the place of an entry (and, when the YAML was read from text, its line)."""

    source: str
    index: int
    lines: Mapping[str, int]

    def __call__(self, key: str = "", name: str | None = None) -> str:
        line = self.lines.get(key) or self.lines.get("")
        at = f"{self.source}, line {line}" if line else self.source
        who = f"appliance #{self.index}" + (f" ({name})" if name else "")
        return f"{at}: {who}"


def parse_inventory(
    data: Any,
    source: str = "inventory",
    lines: Sequence[Mapping[str, int]] = (),
    check: Callable[[Appliance], None] | None = None,
) -> Inventory:
    """Validate parsed YAML; errors name the source, the line and the entry to fix.
    ``check`` (that the appliance's driver is installed, say) raises ``ConfigError`` for an
    entry that cannot work; it is reported with the entry's line too."""
    if not isinstance(data, Mapping) or not isinstance(data.get("appliances"), list):
        raise InventoryError(f"{source}: expected a mapping with an 'appliances' list")
    seen: set[str] = set()
    syslog_owner: dict[str, str] = {}
    appliances: list[Appliance] = []
    for index, entry in enumerate(data["appliances"], start=1):
        where = _Where(source, index, lines[index - 1] if index <= len(lines) else {})
        appliance = _appliance(entry, where)
        if check is not None:
            try:
                check(appliance)
            except ConfigError as exc:
                raise InventoryError(f"{where('driver')}: {exc.detail or exc}") from None
        if appliance.name in seen:
            raise InventoryError(f"{where('name')}: duplicate name {appliance.name!r}")
        seen.add(appliance.name)
        for syslog_id in appliance.syslog_ids:  # one sender, one appliance: counts must not split
            reason = unusable_reason(syslog_id)
            if reason is not None:
                raise InventoryError(f"{where('syslog_ids', appliance.name)}: {reason}")
            owner = syslog_owner.setdefault(normalise_id(syslog_id), appliance.name)
            if owner != appliance.name:
                raise InventoryError(
                    f"{where('syslog_ids', appliance.name)}: syslog id {syslog_id!r} is already "
                    f"listed for {owner!r}"
                )
        appliances.append(appliance)
    return Inventory(tuple(appliances))


def _appliance(entry: Any, where: _Where) -> Appliance:
    if not isinstance(entry, Mapping):
        raise InventoryError(f"{where()}: expected a mapping, got {type(entry).__name__}")
    keys = [str(k) for k in entry]
    secrets = [k for k in keys if any(hint in k.lower() for hint in _SECRET_HINTS)]
    if secrets:
        raise InventoryError(
            f"{where(secrets[0])}: {', '.join(secrets)} looks like a secret; secrets never go in "
            "the inventory (set them in the environment or a file only the bot can read)"
        )
    unknown = sorted(set(keys) - _KNOWN_FIELDS)
    if unknown:
        raise InventoryError(
            f"{where(unknown[0])}: unknown field(s) {', '.join(unknown)}; "
            f"known fields: {', '.join(sorted(_KNOWN_FIELDS))}"
        )
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InventoryError(f"{where('name')}: 'name' is required and must be a non-empty string")
    if len(name) > MAX_NAME:
        raise InventoryError(f"{where('name')}: 'name' is longer than {MAX_NAME} characters")
    fields = {k: _string(entry, k, where(k, name)) for k in _STRING_FIELDS}
    lists = {k: _strings(entry, k, where(k, name)) for k in _LIST_FIELDS}
    driver = fields.pop("driver") or DEFAULT_DRIVER
    scenario = fields.pop("scenario")
    if driver == "simulated":
        scenario = scenario or "healthy"
        if scenario not in SCENARIOS:
            raise InventoryError(
                f"{where('scenario', name)}: unknown scenario {scenario!r}; "
                f"choose one of {', '.join(SCENARIOS)}"
            )
    elif scenario is not None:
        raise InventoryError(
            f"{where('scenario', name)}: 'scenario' only applies to driver simulated"
        )
    _check_network(fields, lists, where, name)
    channel = fields["channel"]
    if channel is not None and not _CHANNEL.match(channel):
        raise InventoryError(
            f"{where('channel', name)}: 'channel' must be a Slack channel ID such as C012AB3CD "
            f"(not a #name), got {channel!r}"
        )
    return Appliance(
        name=name,
        driver=driver,
        scenario=scenario,
        tmsp_servers=lists["tmsp_servers"],
        syslog_ids=lists["syslog_ids"],
        **fields,
    )


def _check_network(
    fields: dict[str, str | None], lists: dict[str, tuple[str, ...]], where: _Where, name: str
) -> None:
    """Addresses, the pin and the CA file are checked now, not at 3 a.m. in a case."""
    from bot.probes import normalise_fingerprint, parse_endpoint

    def check(key: str, value: str, parse: Callable[[str], object]) -> None:
        try:
            parse(value)
        except ValueError as exc:
            raise InventoryError(f"{where(key, name)}: {key!r}: {exc}") from None

    if fields["console"]:
        check("console", fields["console"], parse_endpoint)
    if fields["tls_fingerprint"]:
        check("tls_fingerprint", fields["tls_fingerprint"], normalise_fingerprint)
    for server in lists["tmsp_servers"]:
        plain = server.removeprefix("tcp://")
        check("tmsp_servers", plain, lambda text: parse_endpoint(text, default_port=None))
    ca_file = fields["tls_ca_file"]
    if ca_file and not Path(ca_file).is_file():
        raise InventoryError(
            f"{where('tls_ca_file', name)}: 'tls_ca_file' {ca_file!r} is not a readable file"
        )


def _string(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InventoryError(f"{where}: {key!r} must be a string")
    if len(str(value)) > MAX_NAME:
        raise InventoryError(f"{where}: {key!r} is longer than {MAX_NAME} characters")
    return str(value).strip()


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise InventoryError(f"{where}: {key!r} must be a list of strings")
    if len(value) > MAX_LIST:
        raise InventoryError(f"{where}: {key!r} has more than {MAX_LIST} entries")
    items = tuple(_string({key: item}, key, where) or "" for item in value)
    if any(not item for item in items):
        raise InventoryError(f"{where}: {key!r} has an empty entry")
    return items


def _entry_lines(text: str) -> list[dict[str, int]]:
    """Line numbers (1-based) of each appliance entry ("") and of each of its keys."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "appliances" and isinstance(value, yaml.SequenceNode):
            result = []
            for item in value.value:
                lines = {"": item.start_mark.line + 1}
                if isinstance(item, yaml.MappingNode):
                    lines.update({str(k.value): k.start_mark.line + 1 for k, _ in item.value})
                result.append(lines)
            return result
    return []


def load_inventory(path: Path, check: Callable[[Appliance], None] | None = None) -> Inventory:
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
    return parse_inventory(data, str(path), _entry_lines(text), check)


def demo_inventory(scenarios: Iterable[str] = SCENARIOS) -> Inventory:
    """The built-in fleet used when no inventory file is configured: one appliance per scenario."""
    return Inventory(
        tuple(Appliance(name=f"ddi-{s}", driver="simulated", scenario=s) for s in scenarios)
    )
