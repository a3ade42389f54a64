"""The hash-table tally gives the rows the sorting table gives, collisions and pruning included."""

from __future__ import annotations

import numpy as np
import pytest

from bot.capture import table as table_module
from bot.capture import tally as tally_module
from bot.capture.table import Table
from bot.capture.tally import Tally


def _batches(seed: int, keys: int, batches: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    a_keys = rng.integers(0, 2**63, keys, dtype=np.uint64)
    b_keys = rng.integers(0, 2**40, keys, dtype=np.uint64)
    out = []
    for _ in range(batches):
        pick = rng.integers(0, keys, 5000)
        weight = rng.integers(1, 3, 5000).astype(np.uint64)  # 1 or 2: also valid as bits
        out.append((a_keys[pick], b_keys[pick], weight))
    return out


@pytest.mark.parametrize("bits", [False, True])
@pytest.mark.parametrize("slots_log2", [4, 10, 17])  # 16 slots: most keys collide
def test_tally_rows_equal_table_rows(bits: bool, slots_log2: int) -> None:
    tally, table = Tally(bits, slots_log2), Table(bits)
    for a, b, w in _batches(slots_log2, 3000, 6):
        tally.add(a, b, w)
        table.add(a, b, w)
    assert tally.rows() == table.rows()
    assert len(tally) == len(table) == 3000
    assert not tally.approximate


def test_tally_beyond_max_keys_is_approximate_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tally_module, "MAX_KEYS", 1000)
    monkeypatch.setattr(table_module, "MAX_KEYS", 1000)
    tally = Tally(slots_log2=12)
    for a, b, w in _batches(7, 20_000, 4):
        tally.add(a, b, w)
    assert tally.approximate
    assert len(tally) <= 1000
    rows = tally.rows()
    assert [n for _, n, _ in rows] == sorted((n for _, n, _ in rows), reverse=True)
