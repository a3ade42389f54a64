"""``ddi-bot demo``: a whole case against the simulator, in the terminal, without Slack."""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.engine import Engine
from bot.errors import DdiBotError
from bot.inventory import Appliance, Inventory
from bot.notifier import Thread
from bot.presenter import TERMINAL, CaseView, Message, Prompt, error_message, header
from bot.runbook import Timing
from bot.runtime import start_runtime
from bot.settings import Settings

DEMO_USER = "demo-user"


EMOJI = {":white_check_mark:": "✅", ":x:": "❌", ":warning:": "⚠️", ":grey_question:": "❔"}


def plain(text: str) -> str:
    """mrkdwn to terminal text: drop the bold markers, show emoji codes as emoji."""
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text)
    return re.sub(r":[a-z_]+:", lambda m: EMOJI.get(m.group(0), m.group(0)), text)


class TerminalNotifier:
    style = TERMINAL

    def __init__(self, out: TextIO, assume_yes: bool) -> None:
        self.out = out
        self.assume_yes = assume_yes
        self.engine: Engine | None = None
        self.closed = asyncio.Event()
        self.failed: BaseException | None = None
        self._last_header = ""

    def _print(self, text: str) -> None:
        print(plain(text), file=self.out, flush=True)

    async def open_thread(self, view: CaseView, channel: str | None) -> Thread:
        await self.update_header(view, Thread("terminal", str(view.case_id)))
        return Thread("terminal", str(view.case_id))

    async def update_header(self, view: CaseView, thread: Thread) -> None:
        text = header(view, TERMINAL).text
        if text != self._last_header:
            self._last_header = text
            self._print("\n" + "─" * 72 + "\n" + text + "\n" + "─" * 72)
        if view.state.phase.closed:
            self.closed.set()

    async def post(self, view: CaseView, thread: Thread, message: Message) -> None:
        self._print("\n" + message.text)

    async def upload(
        self, view: CaseView, thread: Thread, filename: str, content: bytes, title: str
    ) -> None:
        self._print(
            f"\n📈 {title} ({filename}, {len(content)} bytes; posted to the thread in Slack)"
        )

    async def ask(self, view: CaseView, thread: Thread, prompt: Prompt) -> None:
        self._print("\n❓ " + prompt.text)
        for number, option in enumerate(prompt.options, start=1):
            mark = " *" if option.recommended else ""
            self._print(f"   [{number}] {option.label}{mark}")
        assert self.engine is not None
        self.engine.tasks.spawn(self._answer(view, prompt), f"answer-{prompt.version}")

    async def _answer(self, view: CaseView, prompt: Prompt) -> None:
        assert self.engine is not None
        options = prompt.options
        chosen = next(o for o in options if o.recommended)
        if self.assume_yes:
            self._print(f"   → {chosen.label} (--yes)")
        else:
            while True:
                try:
                    raw = await asyncio.to_thread(input, f"   1-{len(options)} > ")
                except EOFError:
                    self.failed = EOFError("no answer on standard input; use --yes")
                    self.closed.set()
                    return
                if raw.strip().isdigit() and 1 <= int(raw) <= len(options):
                    chosen = options[int(raw) - 1]
                    break
        try:
            await self.engine.decide(prompt.case_id, prompt.version, chosen.choice, DEMO_USER)
        except DdiBotError as exc:
            self._print(error_message(view.lang, exc, TERMINAL))


async def run_demo(
    scenario: str,
    lang: str,
    assume_yes: bool,
    database_url: str | None = None,
    out: TextIO = sys.stdout,
) -> int:
    with tempfile.TemporaryDirectory(prefix="ddi-bot-demo-") as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'demo.db'}"
        settings = replace(
            Settings(),
            database_url=url,
            lang=lang,
            approvers=frozenset({DEMO_USER}),
            appliance_timeout=2.0,
            capture_seconds=1.0,
        )
        name = f"demo-{scenario}"
        inventory = Inventory((Appliance(name=name, driver="simulated", scenario=scenario),))
        notifier = TerminalNotifier(out, assume_yes)
        runtime = await start_runtime(
            settings,
            notifier,
            inventory=inventory,
            timing=Timing(recheck_delay=10.0, poll_interval=0.5, reboot_timeout=60.0),
            simulator_reboot_seconds=2.0,
            artifacts=Path(tmp) / "artifacts",
            timer_poll=0.5,
        )
        notifier.engine = runtime.engine
        try:
            await runtime.engine.open_case(name, DEMO_USER, "terminal")
            await notifier.closed.wait()
            if notifier.failed is None:
                await runtime.engine.tasks.drain()
        finally:
            await runtime.stop(drain=notifier.failed is None)
        if notifier.failed is not None:
            print(f"ddi-bot demo: {notifier.failed}", file=sys.stderr)
            return 2
        return 0
