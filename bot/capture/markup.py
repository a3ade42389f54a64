"""How capture texts are marked up for where they are shown: Slack mrkdwn where the bot posts
them, plain text in a terminal (``ddi-bot analyze-pcap``).

The texts themselves (``bot.texts.capture``) hold words only; emphasis, code spans, verdict icons
and the escaping of text taken from a capture come from a ``Markup``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass


class Marked(str):
    """Text already marked up for its medium: inserted into a message as it is, not escaped."""

    __slots__ = ()


@dataclass(frozen=True)
class Markup:
    """One medium: how outside text is made safe, and how bold, code and icons look."""

    name: str
    safe: Callable[[str], str]  # text from the capture (names, addresses, details)
    bold_marks: tuple[str, str]
    code_marks: tuple[str, str]
    icons: Mapping[str, str]  # verdict value -> icon

    def escape(self, value: object) -> str:
        """``value`` as it may appear in a message (``Marked`` text is left alone)."""
        return value if isinstance(value, Marked) else self.safe(str(value))

    def bold(self, own: str) -> Marked:
        """One of our own texts, emphasised."""
        return Marked(f"{self.bold_marks[0]}{own}{self.bold_marks[1]}")

    def code(self, outside: object) -> Marked:
        """Text from the capture as code (a file name), escaped."""
        return Marked(f"{self.code_marks[0]}{self.safe(str(outside))}{self.code_marks[1]}")

    def icon(self, verdict: str) -> str:
        return self.icons.get(verdict, "")


# Backticks would close a code span and control characters start a line of their own.
_MRKDWN_UNSAFE = re.compile(r"[\x00-\x1f\x7f`]")
# A terminal also obeys C1 controls (CSI) and bidirectional overrides that reorder what it shows.
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def mrkdwn_escape(text: str) -> str:
    """Make text from outside safe inside mrkdwn: no links, mentions or entities, and no
    backtick or control character to leave a code span or start a line of its own."""
    flat = _MRKDWN_UNSAFE.sub("?", text)
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def terminal_escape(text: str) -> str:
    """Make text from outside safe in a terminal: no control sequence, line break or reordering."""
    return _TERMINAL_UNSAFE.sub("?", text)


MRKDWN = Markup(
    name="mrkdwn",
    safe=mrkdwn_escape,
    bold_marks=("*", "*"),
    code_marks=("`", "`"),
    icons={
        "receiving": ":white_check_mark:",
        "no_packets": ":x:",
        "own_traffic_only": ":x:",
        "one_direction": ":warning:",
        "too_little": ":grey_question:",
        "unsupported": ":grey_question:",
    },
)

# The same glyphs as the terminal demo shows for the Slack emoji (``bot.demo``).
PLAIN = Markup(
    name="plain",
    safe=terminal_escape,
    bold_marks=("", ""),
    code_marks=("", ""),
    icons={
        "receiving": "✅",
        "no_packets": "❌",
        "own_traffic_only": "❌",
        "one_direction": "⚠️",
        "too_little": "❔",
        "unsupported": "❔",
    },
)
