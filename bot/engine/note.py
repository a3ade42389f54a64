"""What comes with an observation into ``apply``: the result to record and show, who gave it,
and what else must be written in the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.messenger import Attachment
from bot.presenter import Message


@dataclass(frozen=True)
class Note:
    message: Message | None = None  # posted in the thread with the transition
    record: dict[str, Any] | None = None  # a step's result: its step run and timeline event
    outcome: str | None = None  # the step's outcome: ok, problem, failed
    attachments: tuple[Attachment, ...] = ()
    actor: str | None = None  # who decided or answered
    answer: str | None = None  # a person's answer to a guided step, recorded once: how
    clicked: str | None = None  # ts of the question whose button was clicked (shown decided)
    shown: int | None = None  # the case version of the question the person read and answered
    timer_id: int | None = None  # the timer this observation fires: claimed in the same unit
    # more writes of the same unit of work; returning False rolls the whole unit back
    also: Callable[[AsyncSession], Awaitable[bool]] | None = field(default=None, compare=False)
