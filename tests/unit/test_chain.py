"""The timeline's hash chain: linking and verifying, including edits an attacker would make."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from storage.chain import GENESIS, ChainEvent, event_hash, link, verify

T0 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def timeline(n: int, case_id: int = 7) -> tuple[list[ChainEvent], int, str]:
    rows = [
        {"case_id": case_id, "kind": "phase", "actor": None if i % 2 else "U1",
         "data": {"phase": f"p{i}", "日本語": "値", "n": i / 3}, "at": T0 + timedelta(seconds=i)}
        for i in range(n)
    ]  # fmt: skip
    linked, count, head = link(rows, 0, None)
    events = [ChainEvent(id=100 + i, **row) for i, row in enumerate(linked)]
    return events, count, head


def test_an_untouched_timeline_verifies() -> None:
    events, count, head = timeline(5)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS and events[1].prev_hash == events[0].hash
    verdict = verify(events, count, head)
    assert verdict.intact and verdict.events == 5 and verdict.head == head
    assert verify([], 0, None).intact


def test_linking_continues_an_existing_chain() -> None:
    events, count, head = timeline(3)
    more, count2, head2 = link(
        [{"case_id": 7, "kind": "decision", "actor": "U2", "data": {}, "at": T0}], count, head
    )
    assert more[0]["seq"] == 4 and more[0]["prev_hash"] == head
    assert verify([*events, ChainEvent(id=200, **more[0])], count2, head2).intact


def test_the_hash_covers_every_field_and_reads_times_in_utc() -> None:
    digest = event_hash(7, 1, T0, "phase", "U1", {"a": 1}, GENESIS)
    assert digest == event_hash(7, 1, T0.astimezone(timezone(timedelta(hours=9))), "phase",
                                "U1", {"a": 1}, GENESIS)  # fmt: skip
    assert len({
        digest,
        event_hash(8, 1, T0, "phase", "U1", {"a": 1}, GENESIS),
        event_hash(7, 2, T0, "phase", "U1", {"a": 1}, GENESIS),
        event_hash(7, 1, T0 + timedelta(microseconds=1), "phase", "U1", {"a": 1}, GENESIS),
        event_hash(7, 1, T0, "decision", "U1", {"a": 1}, GENESIS),
        event_hash(7, 1, T0, "phase", None, {"a": 1}, GENESIS),
        event_hash(7, 1, T0, "phase", "U1", {"a": 2}, GENESIS),
        event_hash(7, 1, T0, "phase", "U1", {"a": 1}, "1" * 64),
    }) == 8  # fmt: skip


def test_an_altered_event_is_named() -> None:
    events, count, head = timeline(5)
    events[2] = replace(events[2], data={**events[2].data, "phase": "rebooted"})
    verdict = verify(events, count, head)
    assert (verdict.intact, verdict.reason, verdict.bad_event, verdict.bad_seq) == (
        False, "altered", 102, 3,
    )  # fmt: skip
    assert verdict.events == 2


def test_an_altered_event_whose_hash_was_recomputed_breaks_the_next_link() -> None:
    events, count, head = timeline(5)
    forged = replace(events[2], actor="U-EVIL")
    forged = replace(forged, hash=event_hash(7, 3, forged.at, forged.kind, forged.actor,
                                             forged.data, forged.prev_hash or ""))  # fmt: skip
    events[2] = forged
    verdict = verify(events, count, head)
    assert (verdict.reason, verdict.bad_event) == ("inserted", 103)  # event 4 no longer follows


def test_removed_events_in_the_middle_or_at_the_end() -> None:
    events, count, head = timeline(5)
    middle = verify(events[:2] + events[3:], count, head)
    assert (middle.intact, middle.reason, middle.bad_seq) == (False, "removed", 3)
    end = verify(events[:4], count, head)  # the last event deleted: the case row still counts 5
    assert (end.intact, end.reason, end.bad_seq, end.bad_event) == (False, "removed", 5, None)


def test_an_inserted_event_is_named() -> None:
    events, count, head = timeline(4)
    intruder = replace(events[1], id=999, data={"phase": "approved"}, hash="f" * 64)
    verdict = verify([*events[:2], intruder, *events[2:]], count, head)
    assert not verdict.intact and verdict.reason == "inserted" and verdict.bad_event == 999


def test_an_event_written_without_the_bot_is_unsealed() -> None:
    events, count, head = timeline(3)
    raw = replace(events[2], id=300, seq=None, prev_hash=None, hash=None)
    verdict = verify([*events, raw], count + 1, head)
    assert (verdict.reason, verdict.bad_event) == ("unsealed", 300)
