"""How the process logs: plain text (the default) or, with ``DDI_BOT_LOG_FORMAT=json``, one JSON
object a line. Every line logged while the engine works on a case carries that case's id and
appliance (``about_case``), in both formats' records; credentials inside URLs are masked
(``bot.redact``) before either formatter sees a record."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime

from bot.errors import ConfigError
from bot.redact import install_redaction

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(case)s"
# (case id, appliance) of the case the running code works on, None outside one
_CASE: ContextVar[tuple[int, str | None] | None] = ContextVar("ddi_bot_case", default=None)
# loggers kept to warnings and errors: at INFO they print every request's full URL (httpx), one
# line per plug-in at start (alembic), every job started and finished with all its arguments,
# a case's whole state (procrastinate, ~14 lines per case: a flood when a fleet goes dark)
QUIET = ("httpx", "httpcore", "alembic.runtime.plugins", "procrastinate")


@contextlib.contextmanager
def about_case(case_id: int | None, appliance: str | None = None) -> Iterator[None]:
    """Lines logged inside (and in tasks started inside) are about this case."""
    if case_id is None:
        yield
        return
    known = _CASE.get()
    if appliance is None and known is not None and known[0] == case_id:
        appliance = known[1]  # already about this case, with its appliance: keep it
    token = _CASE.set((case_id, appliance))
    try:
        yield
    finally:
        _CASE.reset(token)


class CaseFilter(logging.Filter):
    """Puts the case (``case_id``, ``appliance``) on the record; ``case`` is the text suffix."""

    def filter(self, record: logging.LogRecord) -> bool:
        found = _CASE.get()
        record.case_id = found[0] if found else None
        record.appliance = found[1] if found else None
        if found is None:
            record.case = ""
        else:
            record.case = f" [case {found[0]}" + (f" {found[1]}]" if found[1] else "]")
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        case_id = getattr(record, "case_id", None)
        if case_id is not None:
            line["case_id"] = case_id
            line["appliance"] = getattr(record, "appliance", None)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def log_format(env: Mapping[str, str]) -> str:
    chosen = (env.get("DDI_BOT_LOG_FORMAT") or "text").strip().lower()
    if chosen not in FORMATS:
        raise ConfigError(f"DDI_BOT_LOG_FORMAT must be one of {', '.join(FORMATS)}, got {chosen!r}")
    return chosen


def configure(level: int, chosen: str) -> None:
    """One handler on stderr for the whole process, in the chosen format."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT))
    handler.addFilter(CaseFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    install_redaction()  # after the case filter: what the formatter sees is masked
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(logging.WARNING)
