"""Tables: appliances, cases, step runs, decisions, the event timeline, timers, side effects,
uploads, syslog detection counts and receivers, the Slack outbox and its channels' pace, the
fleet watch's alerts, the installation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}  # noqa: RUF012


class ApplianceRow(Base):
    __tablename__ = "appliances"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    driver: Mapped[str] = mapped_column(String(100))
    site: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]


class CaseRow(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    appliance: Mapped[str] = mapped_column(ForeignKey("appliances.name"), index=True)
    # Set to the appliance name while the case is open, NULL once closed: the unique constraint
    # is what guarantees at most one open case per appliance, across replicas.
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    phase: Mapped[str] = mapped_column(String(50), index=True)
    state: Mapped[dict[str, Any]]
    version: Mapped[int] = mapped_column(Integer)
    lang: Mapped[str] = mapped_column(String(5))
    requested_by: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str | None] = mapped_column(String(50))
    thread_ts: Mapped[str | None] = mapped_column(String(50))
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))
    # Where to tell the person who asked for the case that it could not be opened (Slack's
    # response_url of their command: valid 30 minutes). Never logged.
    reply_url: Mapped[str | None] = mapped_column(Text)
    # The timeline's hash chain (storage.chain): how many events it holds and its last hash.
    events_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    events_head: Mapped[str | None] = mapped_column(String(64))
    # cases of the appliance opened in the 7 days before this one, itself included (NULL:
    # opened before this was kept)
    recent_cases: Mapped[int | None] = mapped_column(Integer)


class StepRunRow(Base):
    __tablename__ = "step_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    step: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # ok, problem, failed
    result: Mapped[dict[str, Any] | None]


class DecisionRow(Base):
    __tablename__ = "decisions"
    # One decision per question: the question is identified by the case version that asked it.
    __table_args__ = (UniqueConstraint("case_id", "case_version", name="uq_decision_per_prompt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    point: Mapped[str] = mapped_column(String(30))
    choice: Mapped[str] = mapped_column(String(30))
    user_id: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime]


class EventRow(Base):
    """The append-only case timeline; the history and the vendor report are built from it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(50))
    actor: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]]
    # its place in the case's timeline (from 1), and its links in the hash chain
    seq: Mapped[int | None] = mapped_column(Integer)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class TimerRow(Base):
    """Work due later (re-check, poll a rebooting appliance): survives restarts."""

    __tablename__ = "timers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    case_version: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(index=True)
    fired_at: Mapped[datetime | None]


class SideEffectRow(Base):
    """A dangerous action (reboot), recorded before it is attempted; the key makes it once-only."""

    __tablename__ = "side_effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    recorded_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)


class UploadRow(Base):
    """A file posted in a case thread. The file id is the primary key: whichever Slack event
    (``file_shared`` or ``message``) arrives first claims it, so it is processed exactly once."""

    __tablename__ = "uploads"

    file_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    case_version: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)  # Slack's figure can exceed 2 GiB
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), index=True)  # claimed, done, refused, failed
    detail: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(64))  # the process working on it
    claimed_at: Mapped[datetime]  # renewed while it is worked on: a lease
    finished_at: Mapped[datetime | None]


class SyslogCountRow(Base):
    """Detections received by syslog, per appliance per minute (UTC)."""

    __tablename__ = "syslog_counts"

    appliance: Mapped[str] = mapped_column(String(200), primary_key=True)
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class OutboxRow(Base):
    """A message a person must see, written by the transaction that decided it and delivered
    later, in order per stream (a case's thread), paced per channel, retried until it is out.

    ``body`` holds the content (a message or a question) as plain data; ``blob`` the bytes of
    a file to attach. ``key`` makes a message once-only (the same key is never written twice).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "channel"),
        Index("ix_outbox_stream", "stream", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    stream: Mapped[str] = mapped_column(String(60))  # delivered in id order within a stream
    channel: Mapped[str] = mapped_column(String(50))  # paced per channel
    kind: Mapped[str] = mapped_column(String(20))  # root, post, header, update, upload, reply
    body: Mapped[dict[str, Any]]
    blob: Mapped[bytes | None] = mapped_column(LargeBinary)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    target_ts: Mapped[str | None] = mapped_column(String(50))  # the message an update replaces
    status: Mapped[str] = mapped_column(String(20))  # pending, sent, superseded, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime]
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False)  # may have been posted
    ts: Mapped[str | None] = mapped_column(String(50))  # Slack's ts once posted
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    reported: Mapped[bool] = mapped_column(Boolean, default=False)  # stuck, and said so once
    # the process sending it now, and until when: no other process sends it meanwhile
    owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    alert_id: Mapped[int | None] = mapped_column(Integer, index=True)  # an alert's message


class AlertRow(Base):
    """An alert of the fleet watch: one per condition while it lasts (``open_key`` is its key
    while open, NULL once cleared: the unique constraint keeps it once-only across replicas).
    ``ts`` is its message, once posted; ``detail`` what people are shown of it."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300), index=True)
    open_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    appliance: Mapped[str] = mapped_column(String(200), index=True)  # "fleet" for a fleet alert
    condition: Mapped[str] = mapped_column(String(20))
    target: Mapped[str] = mapped_column(String(300))
    detail: Mapped[dict[str, Any]]
    channel: Mapped[str] = mapped_column(String(50))
    lang: Mapped[str] = mapped_column(String(5))
    opened_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    ts: Mapped[str | None] = mapped_column(String(50))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    case_by: Mapped[str | None] = mapped_column(String(100))
    changes: Mapped[int] = mapped_column(Integer, default=0)  # moves with every change


class InstallationRow(Base):
    """Facts of the installation every replica must agree on (the data directory's marker)."""

    __tablename__ = "installation"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SyslogReceiverRow(Base):
    """A syslog receiver of some replica, and until when it was known to listen: whether the
    feed was listened to all along a period is a question about every replica's receiver."""

    __tablename__ = "syslog_receivers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime] = mapped_column(index=True)


class ChannelPaceRow(Base):
    """When a channel may take its next Slack message, for every replica posting in it (the
    theoretical arrival time of a GCRA: one message per interval, short bursts)."""

    __tablename__ = "channel_pace"

    channel: Mapped[str] = mapped_column(String(50), primary_key=True)
    tat: Mapped[datetime]
