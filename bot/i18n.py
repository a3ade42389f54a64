"""Every text a person sees, in English and Japanese. ``t(lang, key, **params)`` renders one.

The texts live in the modules of ``bot.texts``, one per concept; each contributes a ``TEXTS``
mapping of key -> {"en": ..., "ja": ...}. A key defined twice is a programming error.
"""

from __future__ import annotations

import importlib
import pkgutil
import string
from typing import Any

import bot.texts

FALLBACK = "en"


def _collect() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for info in sorted(pkgutil.iter_modules(bot.texts.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"bot.texts.{info.name}")
        for key, entry in module.TEXTS.items():
            if key in merged:
                raise RuntimeError(f"text key {key!r} is defined twice (bot.texts.{info.name})")
            merged[key] = entry
    return merged


MESSAGES: dict[str, dict[str, str]] = _collect()


def t(lang: str, key: str, **params: Any) -> str:
    entry = MESSAGES[key]
    template = entry.get(lang) or entry[FALLBACK]
    return template.format(**params)


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
