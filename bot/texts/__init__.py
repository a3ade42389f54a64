"""Texts by concept; ``bot.i18n`` merges every module's ``TEXTS``."""
