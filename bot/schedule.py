"""When periodic work runs: every N seconds, aligned on the clock (a sweep every 300 s runs
at :00, :05, ...), so that one process's loop and the job queue's cron agree. Pure."""

from __future__ import annotations

DAY = 24 * 3600


def cron_every(seconds: int) -> str | None:
    """The cron expression (seconds as a sixth field where needed) for "every ``seconds``",
    aligned on the clock; None when no cron expression says it (it does not divide a minute,
    an hour or a day)."""
    if 0 < seconds < 60 and 60 % seconds == 0:
        return f"* * * * * */{seconds}"
    if seconds % 60 == 0 and 0 < seconds // 60 < 60 and 60 % (seconds // 60) == 0:
        return f"*/{seconds // 60} * * * *"
    if seconds % 3600 == 0 and 0 < seconds // 3600 <= 24 and 24 % (seconds // 3600) == 0:
        return f"0 */{seconds // 3600} * * *"
    return None


def until_next(seconds: int, now: float) -> float:
    """Seconds from ``now`` (epoch seconds) to the next multiple of ``seconds`` (a period that
    divides a day, see ``cron_every``)."""
    return seconds - (now % seconds)
