"""``ddi-bot demo``: a whole case against the simulator, in the terminal, without Slack."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import sys
import tempfile
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.engine import Engine
from bot.engine.outbox import stream_of
from bot.errors import DdiBotError
from bot.i18n import t
from bot.inventory import Appliance, Inventory
from bot.messenger import Attachment, Content, Ref
from bot.presenter import TERMINAL, Prompt, error_message
from bot.runbook import Choice, Timing
from bot.runtime import Runtime, start_runtime
from bot.settings import Settings
from storage import cases, outbox

DEMO_USER = "demo-user"
# the two-person rule: a reboot is approved by someone other than who opened the case
DEMO_APPROVER = "demo-approver"


EMOJI = {":white_check_mark:": "✅", ":x:": "❌", ":warning:": "⚠️", ":grey_question:": "❔"}


def plain(text: str) -> str:
    """mrkdwn to terminal text: drop the bold markers, show emoji codes as emoji."""
    text = re.sub(r"\*([^*\n]+)\*", r"\1", text)
    return re.sub(r":[a-z_]+:", lambda m: EMOJI.get(m.group(0), m.group(0)), text)


class TerminalMessenger:
    """The outbox's messenger for the terminal: prints messages, answers questions."""

    style = TERMINAL

    def __init__(self, out: TextIO, assume_yes: bool) -> None:
        self.out = out
        self.assume_yes = assume_yes
        self.engine: Engine | None = None
        self.failed: BaseException | None = None
        self.keyboard = Keyboard()
        self._roots: set[str] = set()
        self._last_header = ""
        self._ts = itertools.count(1)

    def _print(self, text: str) -> None:
        print(plain(text), file=self.out, flush=True)

    def _header(self, content: Content) -> None:
        text = content.text
        if text != self._last_header:
            self._last_header = text
            self._print("\n" + "─" * 72 + "\n" + text + "\n" + "─" * 72)

    async def post(self, channel: str, thread_ts: str | None, content: Content, ref: Ref) -> str:
        ts = f"{next(self._ts)}.0"
        if thread_ts is None:
            self._roots.add(ts)
            self._header(content)
        elif isinstance(content, Prompt):
            self._ask(content)
        else:
            self._print("\n" + content.text)
        return ts

    async def update(self, channel: str, ts: str, content: Content) -> None:
        if ts in self._roots:
            self._header(content)

    async def attach(self, channel: str, thread_ts: str, file: Attachment, ref: Ref) -> None:
        self._print(
            f"\n📎 {file.title} ({file.filename}, {len(file.content)} bytes; "
            "posted to the thread in Slack)"
        )

    async def find(
        self,
        channel: str,
        thread_ts: str | None,
        ref: Ref,
        since: datetime,
        filename: str | None = None,
    ) -> str | None:
        return None  # nothing printed is ever lost

    async def reply(self, url: str, text: str) -> None:
        self._print("\n" + text)

    def _ask(self, prompt: Prompt) -> None:
        self._print("\n❓ " + prompt.text)
        for number, option in enumerate(prompt.options, start=1):
            mark = " *" if option.recommended else ""
            self._print(f"   [{number}] {option.label}{mark}")
        assert self.engine is not None
        if not self.assume_yes:
            self._print(t(self.engine.config.lang, "demo.recommended"))
        self.engine.tasks.spawn(self._answer(prompt), f"answer-{prompt.version}")

    async def _answer(self, prompt: Prompt) -> None:
        assert self.engine is not None
        options = prompt.options
        chosen = next(o for o in options if o.recommended)
        if self.assume_yes:
            self._print(f"   → {chosen.label} (--yes)")
        else:
            while True:
                try:
                    raw = (await self.keyboard.line(f"   1-{len(options)} > ", self.out)).strip()
                except EOFError:
                    self.failed = EOFError("no answer on standard input; use --yes")
                    return
                if not raw:  # Enter: the recommended answer
                    break
                if raw.isdigit() and 1 <= int(raw) <= len(options):
                    chosen = options[int(raw) - 1]
                    break
                self._print(t(self.engine.config.lang, "demo.invalid", count=len(options)))
        user = DEMO_USER
        if chosen.choice == Choice.APPROVE_REBOOT:
            user = DEMO_APPROVER
            self._print(t(self.engine.config.lang, "demo.second_person", user=DEMO_APPROVER))
        try:
            await self.engine.decide(prompt.case_id, prompt.version, chosen.choice, user)
        except DdiBotError as exc:
            self._print(error_message(self.engine.config.lang, exc, TERMINAL))


class Keyboard:
    """Lines typed on standard input, read by one daemon thread with ``os.read``: Ctrl-C ends
    the demo at once (a thread blocked in ``input()`` holds stdin's lock, and the interpreter
    aborts at exit waiting for it; the default executor's threads would be waited for)."""

    def __init__(self) -> None:
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()  # None: end of input
        self.thread: threading.Thread | None = None

    async def line(self, prompt: str, out: TextIO) -> str:
        """The next line (without its end); ``EOFError`` when input has ended."""
        out.write(prompt)
        out.flush()
        if self.thread is None:
            loop = asyncio.get_running_loop()
            self.thread = threading.Thread(
                target=self._read, args=(loop,), name="demo-input", daemon=True
            )
            self.thread.start()
        got = await self.lines.get()
        if got is None:
            self.lines.put_nowait(None)  # every later read ends too
            raise EOFError
        return got

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(0, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                if pending:
                    loop.call_soon_threadsafe(
                        self.lines.put_nowait, pending.decode(errors="replace")
                    )
                loop.call_soon_threadsafe(self.lines.put_nowait, None)
                return
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for raw in complete:
                text = raw.decode(errors="replace").rstrip("\r")
                loop.call_soon_threadsafe(self.lines.put_nowait, text)


async def _finished(runtime: Runtime, case_id: int, messenger: TerminalMessenger) -> None:
    """Until the case is closed and everything it said is printed (or no answer can come)."""
    stream = stream_of(case_id)
    while messenger.failed is None:
        async with runtime.db.read() as session:
            row = await cases.get_case(session, case_id)
            left = await outbox.pending_in(session, stream)
        if row is not None and row.open_key is None and left == 0:
            return
        await asyncio.sleep(0.1)


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
            approvers=frozenset({DEMO_APPROVER}),
            appliance_timeout=2.0,
            capture_seconds=1.0,
            posts_per_second=1000.0,  # a terminal has no rate limit
        )
        name = f"demo-{scenario}"
        inventory = Inventory((Appliance(name=name, driver="simulated", scenario=scenario),))
        messenger = TerminalMessenger(out, assume_yes)
        runtime = await start_runtime(
            settings,
            messenger,
            inventory=inventory,
            timing=Timing(recheck_delay=10.0, poll_interval=0.5, reboot_timeout=60.0),
            simulator_reboot_seconds=2.0,
            artifacts=Path(tmp) / "artifacts",
            timer_poll=0.5,
        )
        messenger.engine = runtime.engine
        interrupted = False
        try:
            view = await runtime.engine.admit(name, DEMO_USER, "terminal")
            await _finished(runtime, view.case_id, messenger)
            if messenger.failed is None:
                await runtime.engine.tasks.drain()
        except asyncio.CancelledError:  # Ctrl-C: an answer being waited for never comes
            interrupted = True
            raise
        finally:
            await runtime.stop(drain=messenger.failed is None and not interrupted)
        if messenger.failed is not None:
            print(f"ddi-bot demo: {messenger.failed}", file=sys.stderr)
            return 2
        return 0
