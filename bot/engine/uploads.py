"""Files posted in a case thread: claimed once, checked, downloaded, read, answered.

Slack announces one file twice (``file_shared`` and a ``message`` with subtype ``file_share``),
possibly more with retries and replicas. The first event to claim the file id in the database
processes it; every other one stops there. A claim whose process stopped before finishing is
picked up again at start (``resume``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.detections import parse_detection_export
from bot.engine.guide import is_guided
from bot.engine.steps import (
    StepOutcome,
    capture_outcome,
    debug_outcome,
    export_outcome,
    guarded,
    safe_name,
)
from bot.errors import AlreadyDecided, DdiBotError, UploadRefused
from bot.files import Downloaded, FileSource, SharedFile
from bot.guidance import UPLOAD_STEPS
from bot.i18n import t
from bot.notifier import Thread
from bot.presenter import CaseView, Message, error_message
from bot.runbook import CaseState, Step
from bot.runbook.model import RUNNING
from storage import cases, timeline, uploads

if TYPE_CHECKING:
    from bot.engine.core import Engine
    from storage.models import CaseRow

log = logging.getLogger(__name__)
MB = 1024 * 1024


def _mb(lang: str, size: int) -> str:
    if size < MB:
        return t(lang, "upload.size.kb", kb=f"{max(size, 1) / 1024:.0f}" if size >= 1024 else "1")
    return t(lang, "upload.size", mb=f"{size / MB:.1f}")


class Uploads:
    def __init__(self, engine: Engine, files: FileSource | None) -> None:
        self.engine = engine
        self.files = files

    @property
    def limit(self) -> int:
        return int(self.engine.config.max_upload_mb * MB)

    async def file_posted(self, file_id: str, bot_user: str | None = None) -> None:
        """A file appeared somewhere; if it is in a case thread, take it (once)."""
        if self.files is None:
            return
        try:
            shared = await self.files.info(file_id)
        except UploadRefused as exc:
            log.warning("file %s: cannot look it up: %s", file_id, exc.detail)
            return
        if bot_user and shared.user == bot_user:
            return  # our own charts
        row = await self._case_of(shared)
        if row is None:
            return  # not posted in a case thread: none of our business
        state = CaseState.from_json(row.state)
        which = RUNNING.get(state.phase)
        try:
            async with self.engine.sessions.begin() as session:
                await uploads.claim(
                    session,
                    file_id=shared.id,
                    case_id=row.id,
                    case_version=row.version,
                    step=which.value if which else None,
                    user_id=shared.user,
                    name=shared.name,
                    size=shared.size,
                    now=self.engine.clock(),
                )
        except IntegrityError:
            return  # the other event (or another replica) has it
        await self.process(shared, row)

    async def resume(self) -> int:
        """Process again the files whose processing stopped half-way (at a restart)."""
        if self.files is None:
            return 0
        async with self.engine.sessions() as session:
            pending = list(await uploads.unfinished(session))
        for upload in pending:
            self.engine.tasks.spawn(self._resume_one(upload.file_id), f"upload-{upload.file_id}")
        return len(pending)

    async def _resume_one(self, file_id: str) -> None:
        assert self.files is not None
        try:
            shared = await self.files.info(file_id)
        except UploadRefused as exc:
            await self._finish(file_id, "refused", detail=exc.detail)
            return
        row = await self._case_of(shared)
        if row is not None:
            await self.process(shared, row)

    async def process(self, shared: SharedFile, row: CaseRow) -> None:
        """Check, download, read and answer; every way out finishes the claim."""
        from bot.engine.core import thread_of, view_of

        engine = self.engine
        state = CaseState.from_json(row.state)
        view, thread = view_of(row, state, row.version), thread_of(row)
        lang, style = view.lang, engine.notifier.style
        name = style.escape(shared.name[:200])
        user = shared.user or ""
        which = RUNNING.get(state.phase)
        appliance_guided = self._guided(view)
        if which not in UPLOAD_STEPS or not appliance_guided:
            await self._refuse(view, thread, shared, t(lang, "upload.not_expected", name=name))
            return
        if not (engine.may_run(user) or user in engine.config.approvers):
            text = t(lang, "upload.not_operator", name=name, user=style.mention(user))
            await self._refuse(view, thread, shared, text)
            return
        if shared.size is not None and shared.size > self.limit:
            await self._refuse(view, thread, shared, self._too_large(lang, name, shared.size))
            return
        size = _mb(lang, shared.size) if shared.size is not None else "?"
        text = t(lang, "upload.received", name=name, size=size, user=style.mention(user))
        await engine.executor.notify(engine.notifier.post(view, thread, Message(text)))
        assert self.files is not None and which is not None
        folder = engine.executor.step_context(view).case_folder / "uploads"
        dest = folder / f"{safe_name(shared.id)}-{safe_name(shared.name)}"
        try:
            got = await self.files.download(shared.id, dest, self.limit)
        except UploadRefused as exc:
            reason = exc.params.get("reason")
            if reason == "too_large":
                text = self._too_large(lang, name, int(exc.params.get("size") or self.limit + 1))
            else:
                text = t(lang, "upload.failed", name=name, detail=style.escape(exc.detail))
            await self._refuse(view, thread, shared, text)
            return
        async with engine.sessions.begin() as session:
            await timeline.add_event(
                session,
                view.case_id,
                "artifact",
                {"file": shared.id, "name": shared.name, "size": got.size, "sha256": got.sha256},
                engine.clock(),
                actor=user,
            )
        try:
            outcome = await self._read(view, which, shared, got)
        except DdiBotError as exc:  # its own sentence, unless it only has a detail to show
            shown = (
                style.escape(exc.detail)
                if isinstance(exc, UploadRefused)
                else error_message(lang, exc, style)
            )
            text = t(lang, "upload.failed", name=name, detail=shown)
            await self._refuse(view, thread, shared, text, got)
            return

        async def done(session: AsyncSession) -> None:
            now = engine.clock()
            await uploads.finish(session, shared.id, "done", now, size=got.size, sha256=got.sha256)

        try:
            await engine.guide.answer(
                view.case_id, view.version, which, outcome, user, "upload", also=done
            )
        except AlreadyDecided:
            text = t(lang, "upload.already_answered", name=name)
            await self._refuse(view, thread, shared, text, got)

    async def _read(
        self, view: CaseView, which: Step, shared: SharedFile, got: Downloaded
    ) -> StepOutcome:
        ctx = self.engine.executor.step_context(view)
        if which == Step.DETECTION_QUERY:
            start, end = await self._period(view, ctx.now)
            tz = self.engine.config.tz
            summary = await asyncio.to_thread(
                functools.partial(parse_detection_export, got.path, start, end, tz=tz)
            )
            return export_outcome(ctx, summary, shared.name, tz)
        if which == Step.PACKET_CAPTURE:
            outcome = await guarded(which, capture_outcome(ctx, shared.name, got.path))
            detail = outcome.record.get("detail")
            if outcome.outcome == "failed":  # a broken capture: say why, let them post another
                raise UploadRefused(str(detail or outcome.record.get("error")))
            return outcome
        return debug_outcome(ctx, safe_name(shared.name), got.size, got.sha256)

    async def _period(self, view: CaseView, now: datetime) -> tuple[datetime, datetime]:
        """The period the instructions asked the person to query."""
        async with self.engine.sessions() as session:
            events = await timeline.events(session, view.case_id)
        for event in reversed(events):
            data = event.data
            posted = event.kind == "guide_posted" and data.get("version") == view.version
            if posted and "start" in data and "end" in data:
                start, end = data["start"], data["end"]
                return datetime.fromisoformat(start), datetime.fromisoformat(end)
        ctx = self.engine.executor.step_context(view)
        return now - ctx.detection_window, now

    def _too_large(self, lang: str, name: str, size: int) -> str:
        limit = f"{self.engine.config.max_upload_mb:g}"
        return t(lang, "upload.too_large", name=name, size=_mb(lang, size), limit=limit)

    async def _refuse(
        self,
        view: CaseView,
        thread: Thread,
        shared: SharedFile,
        text: str,
        got: Downloaded | None = None,
    ) -> None:
        await self.engine.executor.notify(self.engine.notifier.post(view, thread, Message(text)))
        await self._finish(shared.id, "refused", got, detail=text)

    async def _finish(
        self, file_id: str, status: str, got: Downloaded | None = None, detail: str | None = None
    ) -> None:
        async with self.engine.sessions.begin() as session:
            await uploads.finish(
                session,
                file_id,
                status,
                self.engine.clock(),
                size=got.size if got else None,
                sha256=got.sha256 if got else None,
                detail=detail,
            )

    async def _case_of(self, shared: SharedFile) -> CaseRow | None:
        async with self.engine.sessions() as session:
            for channel, thread_ts in shared.threads:
                row = await cases.by_thread(session, channel, thread_ts)
                if row is not None and row.open_key is not None:
                    return row
        return None

    def _guided(self, view: CaseView) -> bool:
        try:
            return is_guided(self.engine.inventory.get(view.appliance))
        except DdiBotError:
            return False
