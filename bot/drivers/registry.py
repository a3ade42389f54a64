"""Choose the driver for an appliance: built-in ones, or plug-ins from an entry point group.

The entry point group is scanned once per process (``refresh_drivers`` scans it again, e.g.
after installing a plug-in into a running interpreter).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import cast

from bot.drivers.base import DriverContext, Watch
from bot.drivers.guided import GuidedDriver
from bot.drivers.simulated import SimulatedDriver
from bot.errors import ConfigError
from bot.inventory import Appliance

ENTRY_POINT_GROUP = "ddi_bot.drivers"
BUILT_IN = ("simulated", "guided")


@functools.cache
def _plugins() -> dict[str, EntryPoint]:
    """The installed plug-in drivers by name (the first entry point of each name)."""
    found: dict[str, EntryPoint] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry.name, entry)
    return found


def refresh_drivers() -> None:
    """Forget the scanned entry points: the next look-up scans the group again."""
    _plugins.cache_clear()


def _plugin_factory(appliance: Appliance) -> Callable[..., object]:
    """The loaded factory of a plug-in driver; ``ConfigError`` if it is not available."""
    name = appliance.driver
    entry = _plugins().get(name)
    if entry is None:
        raise ConfigError(
            f"appliance {appliance.name!r}: driver {name!r} is not installed; "
            f"installed drivers: {', '.join(available_drivers()) or 'none'}",
            appliance=appliance.name,
            driver=name,
        )
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
    return cast(Callable[..., object], factory)


def check_driver(appliance: Appliance) -> None:
    """Raise the ``ConfigError`` that ``make_driver`` would raise because ``appliance.driver``
    is not installed, does not load or is not callable, without building a driver (a plug-in's
    module is imported, which ``make_driver`` would do anyway)."""
    if appliance.driver not in BUILT_IN:
        _plugin_factory(appliance)


def make_driver(appliance: Appliance, context: DriverContext) -> Watch:
    """The driver named by ``appliance.driver``; ``ConfigError`` if it is not available.

    The caller owns the driver and must ``aclose`` it; ``bot.drivers.pool.DriverPool`` keeps
    one per appliance instead."""
    name = appliance.driver
    if name == "simulated":
        return SimulatedDriver(appliance, context)
    if name == "guided":
        return GuidedDriver(appliance, context)
    return cast(Watch, _plugin_factory(appliance)(appliance, context))


def available_drivers() -> list[str]:
    """Names of every driver that ``make_driver`` can build, sorted."""
    return sorted(set(_plugins()) | set(BUILT_IN))
