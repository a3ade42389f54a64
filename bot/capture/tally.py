"""Packet counts and a weight per (a, b) key in a fixed-size hash table, updated in bulk.

Sorting every batch to group it (``table.Table``) costs more than decoding it. Here each key
hashes to one slot of a fixed table; a batch is tallied with ``np.add.at`` on the slots of the
keys already there. A key whose slot another key holds goes to a ``Table`` beside (exact, just
slower); ``rows`` merges both, so the result is the same as the ``Table`` alone gives.

Beyond ``MAX_KEYS`` keys only the busiest half is kept and the tally is marked approximate, as
``Table`` does (which keys survive may differ: the numbers are estimates either way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.capture.table import MAX_KEYS, U64, Table

SLOTS_LOG2 = 17  # 131,072 slots, 5 MB a tally once used
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))
Slots = npt.NDArray[np.intp]
Used = npt.NDArray[np.bool_]

# the same update in C, when it was built at install (bot/capture/_tally.c); else None
# (table columns a, b, n, w, used, log2, keys a, b, weights, packets, bits) -> (claimed, aside)
Add = Callable[[U64, U64, U64, U64, Used, int, U64, U64, U64, U64 | None, bool], tuple[int, bytes]]
COMPILED: Add | None
try:
    from bot.capture._tally import add as _compiled

    COMPILED = _compiled
except ImportError:
    COMPILED = None


def _slots(a: U64, b: U64, log2: int) -> Slots:
    spread: U64 = np.bitwise_xor(b, np.right_shift(b, np.uint64(29)))
    with np.errstate(over="ignore"):
        mixed: U64 = np.add(np.multiply(a, _MIX[0]), np.multiply(spread, _MIX[1]))
    slots: U64 = np.right_shift(mixed, np.uint64(64 - log2))
    return slots.astype(np.intp)


class Tally:
    """``add(a, b, w)`` per packet; ``rows()`` like ``Table.rows``. ``bits``: w is OR-ed (1, 2)."""

    def __init__(
        self, bits: bool = False, slots_log2: int = SLOTS_LOG2, *, compiled: bool = True
    ) -> None:
        self.bits, self.approximate = bits, False
        self._compiled = COMPILED if compiled else None
        self._log2, self._size = slots_log2, 1 << slots_log2
        # empty until the first packet: an export refused before any is read costs nothing
        self._a = self._b = self._n = self._w = np.zeros(0, np.uint64)
        self._used = np.zeros(0, np.bool_)
        self._keys = 0
        self._aside = Table(bits)  # keys whose slot another key holds

    def _held(self, a: U64, b: U64, slot: Slots) -> npt.NDArray[np.bool_]:
        held: npt.NDArray[np.bool_] = self._used[slot] & (self._a[slot] == a) & (self._b[slot] == b)
        return held

    def _claim(self, a: U64, b: U64, slot: Slots) -> None:
        """Give free slots to the first key that asks for each."""
        free = ~self._used[slot]
        if not free.any():
            return
        taken, first = np.unique(slot[free], return_index=True)
        self._used[taken] = True
        self._a[taken], self._b[taken] = a[free][first], b[free][first]
        self._keys += len(taken)

    def add(self, a: U64, b: U64, w: U64, n: U64 | None = None) -> None:
        """One packet of weight ``w`` per row; or ``n`` packets (keys tallied elsewhere)."""
        if not len(a):
            return
        if not len(self._used):
            size = self._size
            self._a, self._b = np.zeros(size, np.uint64), np.zeros(size, np.uint64)
            self._n, self._w = np.zeros(size, np.uint64), np.zeros(size, np.uint64)
            self._used = np.zeros(size, np.bool_)
        if self._compiled is not None:
            self._add_compiled(self._compiled, a, b, w, n)
        else:
            self._add_numpy(a, b, w, n)
        if self._keys + self._aside.at_most() > MAX_KEYS and (
            self._keys + len(self._aside) > MAX_KEYS
        ):
            self._prune()

    def _add_compiled(
        self,
        add: Add,
        a: U64,
        b: U64,
        w: U64,
        n: U64 | None,
    ) -> None:
        a, b, w = (np.ascontiguousarray(column, np.uint64) for column in (a, b, w))
        n = None if n is None else np.ascontiguousarray(n, np.uint64)
        claimed, packed = add(
            self._a, self._b, self._n, self._w, self._used, self._log2, a, b, w, n, self.bits
        )
        self._keys += claimed
        if packed:
            aside = np.frombuffer(packed, np.int64)
            if n is None:
                self._aside.add(a[aside], b[aside], w[aside])
            else:
                self._aside.merge(a[aside], b[aside], n[aside], w[aside])

    def _add_numpy(self, a: U64, b: U64, w: U64, n: U64 | None) -> None:
        slot = _slots(a, b, self._log2)
        held = self._held(a, b, slot)
        if not held.all():
            miss = ~held
            self._claim(a[miss], b[miss], slot[miss])
            held = self._held(a, b, slot)
            aside = ~held
            if aside.any():
                if n is None:
                    self._aside.add(a[aside], b[aside], w[aside])
                else:
                    self._aside.merge(a[aside], b[aside], n[aside], w[aside])
            slot, w = slot[held], w[held]
            n = None if n is None else n[held]
        # ufunc.at: unbuffered, so repeated slots all count (numpy 2 made it fast)
        np.add.at(self._n, slot, np.uint64(1) if n is None else n)
        (np.bitwise_or if self.bits else np.add).at(self._w, slot, w)

    def merge(self, other: Tally) -> None:
        """Add what ``other`` tallied (another part of the same capture)."""
        a, b, n, w = other.table().columns()
        self.add(a, b, w, n)
        self.approximate |= other.approximate

    def _prune(self) -> None:
        used = np.flatnonzero(self._used)
        drop = used[np.argsort(self._n[used], kind="stable")[: -(MAX_KEYS // 2)]]
        self._used[drop] = False
        self._n[drop], self._w[drop] = 0, 0
        self._keys = len(used) - len(drop)
        self._aside.flush(MAX_KEYS // 2)
        self.approximate = True

    def __getstate__(self) -> dict[str, object]:
        """Only the keys held (sent from one process to another), not the empty slots."""
        return {
            "bits": self.bits,
            "log2": self._log2,
            "approximate": self.approximate,
            "columns": self.table().columns(),
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["bits"], state["log2"])  # type: ignore[misc]
        a, b, n, w = state["columns"]
        self.add(a, b, w, n)
        self.approximate = bool(state["approximate"])

    def table(self) -> Table:
        """Everything tallied, as one exact ``Table`` (the hash table's keys and those aside)."""
        used = np.flatnonzero(self._used)
        table = Table(self.bits)
        table.merge(self._a[used], self._b[used], self._n[used], self._w[used])
        table.merge(*self._aside.columns())
        table.approximate = self.approximate or self._aside.approximate
        return table

    def __len__(self) -> int:
        return len(self.table())

    def rows(self, limit: int | None = None) -> list[tuple[tuple[int, int], int, int]]:
        """((a, b), packets, weight) for every key (the first ``limit``), busiest first."""
        return self.table().rows(limit)
