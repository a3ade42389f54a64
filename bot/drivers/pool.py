"""One long-lived driver per appliance, instead of one per step.

Building a driver can be expensive (the simulated driver's HTTP client and TLS set-up), and a
case uses its appliance's driver many times. ``DriverPool.get`` builds each appliance's driver
on first use and hands the same one out afterwards.

**Drivers handed out by the pool belong to the pool: callers must never ``aclose`` them.**
Several tasks may be using the same driver at once; only ``DriverPool.aclose`` closes them, at
shutdown. (A driver that reports ``closed`` anyway is built again on the next ``get``.)

The pool is meant for one event loop; ``get`` does not await, so tasks of that loop never see
it half updated.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.drivers.base import DriverContext, Watch
from bot.drivers.registry import check_driver, make_driver
from bot.inventory import Appliance

log = logging.getLogger(__name__)

DriverFactory = Callable[[Appliance, DriverContext], Watch]


@dataclass(frozen=True)
class _Entry:
    appliance: Appliance  # the inventory entry the driver was built from
    driver: Watch


def _is_closed(driver: Watch) -> bool:
    return getattr(driver, "closed", False) is True


class DriverPool:
    """Drivers by appliance name, built with ``factory(appliance, context)`` on first use.

    ``check`` is what ``available`` runs: by default the registry's cheap check that the
    appliance's driver is installed (pass another one with a factory that knows other names).
    """

    def __init__(
        self,
        context: DriverContext,
        factory: DriverFactory = make_driver,
        *,
        check: Callable[[Appliance], None] = check_driver,
    ) -> None:
        self._context = context
        self._factory = factory
        self._check = check
        self._entries: dict[str, _Entry] = {}
        self._retired: list[_Entry] = []  # replaced outside a loop: closed by aclose
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    def get(self, appliance: Appliance) -> Watch:
        """The driver for ``appliance``: the pooled one while its inventory entry is unchanged
        (compared as a whole), otherwise a new one, and the old one is closed. Raises what the
        factory raises (``ConfigError``); a driver it replaces is closed even then.

        The caller must not close the driver it gets."""
        if self._closed:
            raise RuntimeError("the driver pool is closed")
        entry = self._entries.get(appliance.name)
        if entry is not None and entry.appliance == appliance and not _is_closed(entry.driver):
            return entry.driver
        try:
            driver = self._factory(appliance, self._context)  # before the old one is closed,
        finally:  # so that what they share (an HTTP client) is kept, not made again
            if entry is not None:
                del self._entries[appliance.name]
                self._retire(entry)
        self._entries[appliance.name] = _Entry(appliance, driver)
        return driver

    def available(self, appliance: Appliance) -> None:
        """Raise the ``ConfigError`` that building ``appliance``'s driver would raise because
        its driver is not installed (or does not load); builds nothing, opens nothing."""
        entry = self._entries.get(appliance.name)
        if entry is not None and entry.appliance == appliance:
            return
        self._check(appliance)

    async def aclose(self) -> None:
        """Close every driver the pool built (errors are logged, not raised); idempotent.
        ``get`` refuses to build drivers afterwards."""
        self._closed = True
        entries = [*self._entries.values(), *self._retired]
        self._entries.clear()
        self._retired.clear()
        for entry in entries:
            await self._close(entry)
        if self._closing:  # drivers replaced earlier, still closing
            await asyncio.gather(*self._closing)

    async def __aenter__(self) -> DriverPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _retire(self, entry: _Entry) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._retired.append(entry)
            return
        task = loop.create_task(self._close(entry))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, entry: _Entry) -> None:
        try:
            await entry.driver.aclose()
        except Exception:
            log.warning("closing the driver of %s failed", entry.appliance.name, exc_info=True)
