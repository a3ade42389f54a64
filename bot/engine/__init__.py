"""Carries out the runbook's effects: drivers, database, notifier, timers."""

from bot.engine.core import Decision, Engine, EngineConfig

__all__ = ["Decision", "Engine", "EngineConfig"]
