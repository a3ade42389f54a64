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


needs_compiled = pytest.mark.skipif(
    tally_module.COMPILED is None,
    reason="the compiled tally was not built (no C compiler at install)",
)


def _state(tally: Tally) -> tuple[object, ...]:
    """Everything a tally holds: the slots (which key holds which), the keys aside, the rows."""
    used = np.flatnonzero(tally._used)
    held = tuple(column[used].tolist() for column in (tally._a, tally._b, tally._n, tally._w))
    return used.tolist(), held, tally._aside.rows(), tally._keys, tally.approximate, tally.rows()


@needs_compiled
@pytest.mark.parametrize("bits", [False, True])
@pytest.mark.parametrize("slots_log2", [4, 10, 17])
def test_the_compiled_tally_holds_what_the_numpy_tally_holds(bits: bool, slots_log2: int) -> None:
    fast, slow = Tally(bits, slots_log2), Tally(bits, slots_log2, compiled=False)
    for a, b, w in _batches(slots_log2 + 100, 3000, 6):
        fast.add(a, b, w)
        slow.add(a, b, w)
        assert _state(fast) == _state(slow)
    other = Tally(bits, slots_log2, compiled=False)  # a second part: n packets per key
    for a, b, w in _batches(slots_log2 + 200, 2000, 3):
        other.add(a[::2], b[::2], w[::2])  # strided columns, as the decoder's are
    fast.merge(other)
    slow.merge(other)
    assert _state(fast) == _state(slow)
    assert fast._aside.rows() or slots_log2 == 17  # collisions were tallied aside


@needs_compiled
def test_the_compiled_tally_prunes_as_the_numpy_tally_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tally_module, "MAX_KEYS", 1000)
    monkeypatch.setattr(table_module, "MAX_KEYS", 1000)
    fast, slow = Tally(slots_log2=12), Tally(slots_log2=12, compiled=False)
    for a, b, w in _batches(9, 20_000, 4):
        fast.add(a, b, w)
        slow.add(a, b, w)
        assert _state(fast) == _state(slow)
    assert fast.approximate


@needs_compiled
def test_the_compiled_tally_refuses_columns_of_the_wrong_size() -> None:
    assert tally_module.COMPILED is not None
    table = [np.zeros(16, np.uint64) for _ in range(4)]
    keys = np.zeros(3, np.uint64)
    with pytest.raises(ValueError, match="wrong size"):
        tally_module.COMPILED(*table, np.zeros(16, np.bool_), 5, keys, keys, keys, None, False)
    with pytest.raises(ValueError, match="wrong size"):
        tally_module.COMPILED(*table, np.zeros(16, np.bool_), 4, keys, keys[:2], keys, None, False)


def test_the_first_rows_and_counts_are_those_of_all_rows() -> None:
    tally = Tally(bits=True, slots_log2=6)
    for a, b, w in _batches(3, 20_000, 3):  # most keys seen once: weight 1 or 3
        tally.add(a, b, np.where(w == 2, np.uint64(3), w))  # weights 1 and 3
    table, every = tally.table(), tally.rows()
    assert tally.rows(7) == every[:7]
    assert table.rows(5, unless=3) == [row for row in every if row[2] != 3][:5]
    assert table.count(unless=3) == sum(row[2] != 3 for row in every) > 0
    assert len(table.rows(unless=1)) == sum(row[2] != 1 for row in every) > 0
