"""Keep credentials that sit inside URLs out of messages and logs.

``redact`` turns ``scheme://user:password@host`` and ``scheme://token@host`` into
``scheme://***@host`` wherever they appear in a text (several per line, inside quotes or a
``repr()``); ``RedactingFilter`` does it to every log record a handler prints.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

# A scheme that starts a word, "://", then the userinfo up to its "@". Either everything up to
# the *last* "@" before the authority ends (whitespace, "/", "?", "#"), so that an unescaped
# "@" in a password is covered, or "user:" and a password holding an unescaped "/" (which
# SQLAlchemy accepts) up to the last "@" before whitespace, unless what follows the ":" is a
# port ("host:8080/a@b" has no credentials). The look-behind keeps long runs of letters from
# being tried at every position.
_CREDENTIALS = re.compile(
    r"""
    (?<![A-Za-z0-9+.\-])
    ([A-Za-z][A-Za-z0-9+.\-]*://)
    (?: [^\s/?#]+@
      | [^\s:/?#@\[\]]*:(?!\d*(?:[/?#]|$))\S*@
    )
    """,
    re.VERBOSE,
)
MASK = "***"


def _mask(match: re.Match[str]) -> str:
    return f"{match.group(1)}{MASK}@"


def redact(text: str) -> str:
    """``text`` with the credentials of every URL in it replaced by ``***``."""
    if "@" not in text or "://" not in text:  # nearly every log line: no regex at all
        return text
    return _CREDENTIALS.sub(_mask, text)


class RedactingFilter(logging.Filter):
    """Redacts a record's whole output: the formatted message (with its arguments), the
    exception text and the stack information. Never drops a record.

    Attach it to handlers (``install_redaction``): a filter on a logger does not see the
    records its children propagate to it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # bad arguments: the handler reports it, with the record, redacted
            record.msg = redact(str(record.msg))
            record.args = _redacted_args(record.args)
        else:
            redacted = redact(message)
            if redacted != message:  # otherwise leave the record as it came
                record.msg, record.args = redacted, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        elif record.exc_info and record.exc_info[0] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            redacted = redact(text)
            if redacted != text:  # formatters use exc_text when it is set
                record.exc_text = redacted
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _redacted_args(
    args: tuple[object, ...] | Mapping[str, object] | None,
) -> tuple[object, ...] | Mapping[str, object] | None:
    if isinstance(args, Mapping):
        return {key: redact(repr(value)) for key, value in args.items()}
    if args:
        return tuple(redact(repr(value)) for value in args)
    return args


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach one ``RedactingFilter`` to every handler of ``logger`` (the root logger by
    default) that has none yet. Handlers added later need it too."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
