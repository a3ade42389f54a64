"""The engine: every change to a case through one unit of work, its effects carried out in one
flat loop, every message delivered through the outbox. ``Engine`` is its one facade."""

from bot.engine.context import EngineConfig, Foreground
from bot.engine.facade import Decision, Engine, Thread

__all__ = ["Decision", "Engine", "EngineConfig", "Foreground", "Thread"]
