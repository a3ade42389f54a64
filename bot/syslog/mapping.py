"""Which appliance sent a detection: by the event's device identifiers, then by the sender address.

Each appliance lists ``syslog_ids`` in the inventory: its address as the bot sees it, its
``dvchost``, its device GUID. Matching ignores case, and IP addresses match in any spelling
(``::ffff:10.0.0.5`` is ``10.0.0.5``). Names that identify no sensor (``localhost``, ``-``;
see ``bot.sensor_ids``) are refused in the index and never matched.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.errors import InventoryError
from bot.sensor_ids import normalise_id, unusable_reason

__all__ = ["SyslogIndex", "normalise_id"]

_CACHE_LIMIT = 4096
_CACHED_CHARS = 255  # longer values are no identifier: not worth memory in the cache


class SyslogIndex:
    """Identifier -> appliance name; one identifier may belong to one appliance only."""

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]]) -> None:
        self._ids: dict[str, str] = {}
        self._raw: dict[bytes, str] = {}  # the same keys as UTF-8, for raw event values
        names: list[str] = []
        for name, identifiers in entries:
            names.append(name)
            for raw in identifiers:
                reason = unusable_reason(raw)
                if reason is not None:
                    raise InventoryError(f"{name!r}: {reason}", appliance=name)
                for key in {raw.strip().lower(), normalise_id(raw)}:
                    if not key:
                        continue
                    owner = self._ids.setdefault(key, name)
                    if owner != name:
                        raise InventoryError(
                            f"syslog id {raw!r} is listed for both {owner!r} and {name!r}",
                            appliance=name,
                        )
        self._raw = {key.encode(): name for key, name in self._ids.items()}
        self.appliances: tuple[str, ...] = tuple(names)
        self._spellings: dict[str, str | None] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def by_identifier(self, value: str) -> str | None:
        """The appliance for one identifier or sender address, in any spelling."""
        found = self._ids.get(value.lower())
        if found is not None:
            return found
        cache = self._spellings
        if value in cache:
            return cache[value]
        found = self._ids.get(normalise_id(value))
        if len(value) > _CACHED_CHARS:
            return found
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[value] = found
        return found

    def resolve(
        self,
        guid: str | None,
        dvchost: str | None,
        dvc: str | None,
        sender: str | None,
    ) -> str | None:
        """The appliance for an event: GUID, then ``dvchost``, then ``dvc``, then the sender."""
        ids = self._ids
        for value in (guid, dvchost, dvc):
            if value:
                found = ids.get(value.lower())
                if found is not None:
                    return found
        for value in (guid, dvchost, dvc, sender):
            if value:
                found = self.by_identifier(value)
                if found is not None:
                    return found
        return None

    def resolve_raw(
        self,
        guid: bytes | None,
        dvchost: bytes | None,
        dvc: bytes | None,
        sender: str | None,
    ) -> str | None:
        """``resolve`` for raw event values (a ``Sighting``'s): exact matches are looked up as
        bytes; anything else is decoded and goes the whole way."""
        raw = self._raw
        for value in (guid, dvchost, dvc):
            if value:
                found = raw.get(value.lower())
                if found is not None:
                    return found
        return self.resolve(_text(guid), _text(dvchost), _text(dvc), sender)


def _text(value: bytes | None) -> str | None:
    return value.decode("utf-8", "replace") if value else None
