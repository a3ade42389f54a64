"""Packet counts and a weight per (a, b) key, grouped by sorting (exact, bounded in size).

The reference way to tally keys, and the place ``bot.capture.tally`` puts the keys its hash
table cannot hold.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
MAX_KEYS = 50_000


def _group(a: U64, b: U64) -> tuple[U64, U64, I64, npt.NDArray[np.intp]]:
    """Distinct (a, b) pairs, the start of each group in sorted order, and that order."""
    order = np.argsort(a, kind="stable") if not b.any() else np.lexsort((b, a))
    sa, sb = a[order], b[order]
    change = np.ones(len(sa), np.bool_)
    change[1:] = (sa[1:] != sa[:-1]) | (sb[1:] != sb[:-1])
    starts = np.flatnonzero(change)
    return sa[starts], sb[starts], starts, order


class Table:
    """Packet counts and a weight (summed, or OR-ed with ``bits``) per (a, b) key, in numpy.

    Batches are grouped on arrival and merged in bulk; beyond ``MAX_KEYS`` keys only the
    busiest half is kept and the table is marked approximate.
    """

    def __init__(self, bits: bool = False) -> None:
        self.bits, self.approximate = bits, False
        empty = np.zeros(0, np.uint64)
        self.a, self.b, self.n, self.w = empty, empty, empty, empty
        self._parts: list[tuple[U64, U64, U64, U64]] = []
        self._rows = 0

    def _reduce(self, a: U64, b: U64, n: U64, w: U64) -> tuple[U64, U64, U64, U64]:
        ua, ub, starts, order = _group(a, b)
        combine = np.bitwise_or if self.bits else np.add
        return ua, ub, np.add.reduceat(n[order], starts), combine.reduceat(w[order], starts)

    def add(self, a: U64, b: U64, w: U64) -> None:
        if len(a):
            self._parts.append(self._reduce(a, b, np.ones(len(a), np.uint64), w))
            self._rows += len(self._parts[-1][0])
            if self._rows > 4 * MAX_KEYS:
                self.flush()

    def merge(self, a: U64, b: U64, n: U64, w: U64) -> None:
        """Keys already counted elsewhere: ``n`` packets and weight ``w`` each."""
        if len(a):
            self._parts.append((a, b, n, w))
            self._rows += len(a)

    def columns(self) -> tuple[U64, U64, U64, U64]:
        """(a, b, packets, weight), one row per key."""
        self.flush()
        return self.a, self.b, self.n, self.w

    def flush(self, limit: int = MAX_KEYS) -> None:
        """Merge what was added; beyond ``limit`` keys keep only the busiest ``MAX_KEYS // 2``."""
        if self._parts:
            columns = [self.a, self.b, self.n, self.w]
            parts = self._parts
            merged = [np.concatenate([c, *(p[i] for p in parts)]) for i, c in enumerate(columns)]
            self._parts, self._rows = [], 0
            self.a, self.b, self.n, self.w = self._reduce(*merged)
        if len(self.a) > limit:
            keep = np.argsort(self.n, kind="stable")[-(MAX_KEYS // 2) :]
            self.a, self.b, self.n, self.w = self.a[keep], self.b[keep], self.n[keep], self.w[keep]
            self.approximate = True

    def at_most(self) -> int:
        """An upper bound of ``len(self)`` that needs no merge."""
        return len(self.a) + self._rows

    def __len__(self) -> int:
        self.flush()
        return len(self.a)

    def rows(
        self, limit: int | None = None, *, unless: int | None = None
    ) -> list[tuple[tuple[int, int], int, int]]:
        """((a, b), packets, weight) for every key, busiest first (the first ``limit``; only
        the keys whose weight is not ``unless``)."""
        self.flush()
        a, b, n, w = self.a, self.b, self.n, self.w
        if unless is not None:
            keep = w != unless
            a, b, n, w = a[keep], b[keep], n[keep], w[keep]
        order = np.lexsort((b, a, -n.astype(np.int64)))[:limit]
        keys = zip(a[order].tolist(), b[order].tolist(), strict=True)
        return list(zip(keys, n[order].tolist(), w[order].tolist(), strict=True))

    def count(self, unless: int) -> int:
        """How many keys have a weight other than ``unless``."""
        self.flush()
        return int(np.count_nonzero(self.w != unless))
