"""Choose the driver for an appliance: built-in ones, or plug-ins from an entry point group."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import cast

from bot.drivers.base import Driver, DriverContext
from bot.drivers.guided import GuidedDriver
from bot.drivers.simulated import SimulatedDriver
from bot.errors import ConfigError
from bot.inventory import Appliance

ENTRY_POINT_GROUP = "ddi_bot.drivers"


def make_driver(appliance: Appliance, context: DriverContext) -> Driver:
    """The driver named by ``appliance.driver``; ``ConfigError`` if it is not available."""
    name = appliance.driver
    if name == "simulated":
        return SimulatedDriver(appliance, context)
    if name == "guided":
        return GuidedDriver(appliance, context)
    found = entry_points(group=ENTRY_POINT_GROUP).select(name=name)
    if not found:
        raise ConfigError(
            f"appliance {appliance.name!r}: driver {name!r} is not installed; "
            f"installed drivers: {', '.join(available_drivers()) or 'none'}",
            appliance=appliance.name,
            driver=name,
        )
    entry = next(iter(found))
    try:
        factory = entry.load()
    except Exception as exc:
        raise ConfigError(
            f"appliance {appliance.name!r}: driver {name!r} ({entry.value}) failed to load: "
            f"{type(exc).__name__}: {exc}",
            appliance=appliance.name,
            driver=name,
        ) from exc
    if not callable(factory):
        raise ConfigError(
            f"appliance {appliance.name!r}: driver {name!r} ({entry.value}) is not callable",
            appliance=appliance.name,
            driver=name,
        )
    return cast(Driver, factory(appliance, context))


def available_drivers() -> list[str]:
    """Names of every driver that ``make_driver`` can build, sorted."""
    names = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names | {"simulated", "guided"})
