"""The hash chain of a case's timeline: tamper evidence for the record a vendor or an auditor
is given. Pure.

Each event stores its place in the case's timeline (``seq``, from 1), the SHA-256 of the event
before it (``prev_hash``; 64 zeros for the first) and its own ``hash``: the SHA-256 of a
canonical JSON form of the case id, ``seq``, time (UTC, microseconds), kind, actor, data and
``prev_hash``. The case row keeps the head (the last hash) and the count, so that events
removed from the end are noticed too, and the case file carries the head out of the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

GENESIS = "0" * 64


class Linked(Protocol):
    """An event as stored: what its hash covers, and its links."""

    id: int
    case_id: int
    seq: int | None
    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]
    prev_hash: str | None
    hash: str | None


@dataclass(frozen=True)
class ChainEvent:
    """An event outside the database (read back from a case file's JSON, say), to verify."""

    id: int
    case_id: int
    seq: int | None
    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]
    prev_hash: str | None
    hash: str | None


def event_hash(
    case_id: int,
    seq: int,
    at: datetime,
    kind: str,
    actor: str | None,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    stamp = at.astimezone(UTC).isoformat(timespec="microseconds")
    canonical = json.dumps(
        [case_id, seq, stamp, kind, actor, data, prev_hash],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def link(
    rows: Sequence[dict[str, Any]], count: int, head: str | None
) -> tuple[list[dict[str, Any]], int, str]:
    """New events of one case (dicts of case_id, kind, data, at, actor) after ``count``
    events ending in ``head``: the rows with seq, prev_hash and hash, the new count and head."""
    linked: list[dict[str, Any]] = []
    prev = head or GENESIS
    for row in rows:
        count += 1
        digest = event_hash(
            row["case_id"], count, row["at"], row["kind"], row["actor"], row["data"], prev
        )
        linked.append({**row, "seq": count, "prev_hash": prev, "hash": digest})
        prev = digest
    return linked, count, prev


@dataclass(frozen=True)
class Verdict:
    intact: bool
    events: int
    head: str
    bad_event: int | None = None  # the id of the first event that breaks the chain
    bad_seq: int | None = None  # its place in the timeline (or where one is missing)
    reason: str = ""  # "altered", "inserted", "removed", "unsealed"


def verify(events: Sequence[Linked], count: int, head: str | None) -> Verdict:
    """Check ``events`` (ordered by seq, then id) against the case's ``count`` and ``head``."""
    prev = GENESIS
    for place, event in enumerate(events, start=1):
        if event.hash is None or event.seq is None:
            return Verdict(False, place - 1, prev, event.id, place, "unsealed")
        if event.seq != place:
            reason = "inserted" if event.seq < place else "removed"
            return Verdict(False, place - 1, prev, event.id, place, reason)
        if event.prev_hash != prev:
            return Verdict(False, place - 1, prev, event.id, place, "inserted")
        digest = event_hash(
            event.case_id, place, event.at, event.kind, event.actor, event.data, prev
        )
        if digest != event.hash:
            return Verdict(False, place - 1, prev, event.id, place, "altered")
        prev = event.hash
    if len(events) != count or prev != (head or GENESIS):
        missing_from = len(events) + 1
        return Verdict(False, len(events), prev, None, missing_from, "removed")
    return Verdict(True, len(events), prev)
