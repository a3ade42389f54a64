"""Files posted in a case thread: claimed once, checked, downloaded, read, answered.

Slack announces one file twice (``file_shared`` and a ``message`` with subtype ``file_share``),
possibly more with retries and replicas. The first event to claim the file id in the database
processes it; every other one stops there. The claim is a lease owned by this process and
renewed every third of it while the file is worked on: a claim whose process stopped is taken
over (by exactly one process) once stale, at start and by a periodic sweep; the old owner can
then no longer finish it, and an answer it was about to give is rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
import zipfile
from collections.abc import AsyncIterator
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.capture.texts import escape as capture_escape
from bot.detections import parse_detection_export
from bot.engine.access import Access
from bot.engine.checks import with_usual
from bot.engine.context import Context
from bot.engine.dispatch import Dispatch
from bot.engine.driver_steps import step_context
from bot.engine.instruct import period
from bot.engine.note import Note
from bot.engine.outbox import say
from bot.engine.steps import (
    StepOutcome,
    capture_outcome,
    debug_outcome,
    export_outcome,
    safe_name,
)
from bot.engine.tasks import TaskTracker
from bot.engine.unit import Applied, Rejected, apply, view_of
from bot.errors import CaptureError, DdiBotError, NotOperator, UploadRefused
from bot.files import Downloaded, SharedFile
from bot.guidance import UPLOAD_STEPS
from bot.i18n import MESSAGES, t
from bot.presenter import CaseView, Message, Style, error_message
from bot.runbook import Phase, Step
from storage import cases, timeline, uploads
from storage.models import CaseRow
from storage.timeline import EventKind

log = logging.getLogger(__name__)
MB = 1024 * 1024
# What a debug bundle is not: pictures (a screenshot), and the captures of step 3.
NOT_A_BUNDLE_MAGIC = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
    b"\x0a\x0d\x0d\x0a",
)
CAPTURE_SUFFIXES = (".pcap", ".pcapng", ".cap")
GONE = "gone"  # the file source's reason when the file was deleted: retrying is useless


def _size(lang: str, size: int) -> str:
    if size < MB:
        return t(lang, "upload.size.kb", kb=f"{max(1, round(size / 1024))}")
    return t(lang, "upload.size", mb=f"{size / MB:.1f}")


def refusal_text(lang: str, exc: UploadRefused, style: Style) -> str:
    """Why Slack's file could not be had, in the reader's language when the reason is known."""
    key = f"upload.reason.{exc.params.get('reason')}"
    if key in MESSAGES:
        return t(lang, key, detail=style.escape(exc.detail))
    return style.escape(exc.detail)


class _LostClaim(Exception):
    """Another process took the claim over (this one was too slow): it answers, not us."""


class _Refused(Exception):
    """A file that cannot be used; ``text`` says why, in the case's language."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class Uploads:
    def __init__(self, ctx: Context, dispatch: Dispatch, tasks: TaskTracker) -> None:
        self.ctx = ctx
        self.dispatch = dispatch
        self.tasks = tasks
        self.owner = uuid.uuid4().hex  # this process, as the owner of its claims
        self.working: set[str] = set()  # file ids this process is processing now

    @property
    def limit(self) -> int:
        return int(self.ctx.config.max_upload_mb * MB)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.ctx.config.upload_lease)

    async def file_posted(
        self, file_id: str, bot_user: str | None = None, thread: tuple[str, str] | None = None
    ) -> None:
        """A file appeared somewhere; if it is in a case thread, take it (once).

        ``thread``: where the ``message`` event says it was posted, for when ``files.info``
        does not list the share yet.
        """
        ctx = self.ctx
        if ctx.files is None:
            return
        try:
            shared = await ctx.files.info(file_id)
        except UploadRefused as exc:
            log.warning("file %s: cannot look it up: %s", file_id, exc.detail)
            return
        if bot_user and shared.user == bot_user:
            return  # our own charts
        row = await self._case_of(shared, thread)
        if row is None:
            return  # not posted in a case thread: none of our business
        which = view_of(row).state.file_step()
        async with ctx.db.write() as session:
            claimed = await uploads.claim(
                session,
                file_id=shared.id,
                case_id=row.id,
                case_version=row.version,
                step=which.value if which else None,
                user_id=shared.user,
                name=shared.name,
                size=shared.size,
                owner=self.owner,
                now=ctx.clock(),
            )
        if claimed:  # else the other event (or another replica) has it
            await self.process(shared, row, row.version)

    async def sweep(self) -> int:
        """Take over the claims whose process stopped (no renewal for a lease); count them."""
        ctx = self.ctx
        if ctx.files is None:
            return 0
        now = ctx.clock()
        before = now - self.lease
        async with ctx.db.read() as session:
            stale = list(await uploads.stale(session, before))
        taken = 0
        for upload in stale:
            if upload.file_id in self.working:
                continue  # ours, still going (its renewal is just late)
            async with ctx.db.write() as session:
                if not await uploads.retake(session, upload.file_id, self.owner, before, now):
                    continue  # another process took it over first
            taken += 1
            self.tasks.spawn(
                self._resume_one(upload.file_id, upload.case_version), f"upload-{upload.file_id}"
            )
        return taken

    async def _resume_one(self, file_id: str, version: int) -> None:
        ctx = self.ctx
        assert ctx.files is not None
        async with ctx.db.read() as session:
            upload = await uploads.get(session, file_id)
            row = await cases.get_case(session, upload.case_id) if upload else None
        if upload is None or row is None:
            return
        try:
            shared = await ctx.files.info(file_id)
        except UploadRefused as exc:
            if exc.params.get("reason") != GONE:
                return  # Slack trouble: the claim goes stale again and is retried later
            view = view_of(row)
            name = ctx.style.escape(upload.name)
            await self._refuse(view, file_id, t(view.lang, "upload.gone", name=name))
            return
        await self.process(shared, row, version)

    async def process(self, shared: SharedFile, row: CaseRow, version: int) -> None:
        """Check, download, read and answer the step the file was posted for (at ``version``).

        Every way out finishes the claim and says so in the thread, surprises included.
        """
        view = view_of(row)
        name = self.ctx.style.escape(shared.name[:200])
        try:
            async with self._holding(shared.id):
                applied = await self._process(shared, view, name, version)
        except _LostClaim:
            log.warning(
                "case %s: file %s was taken over by another process", view.case_id, shared.id
            )
        except _Refused as refused:
            await self._refuse(view, shared.id, refused.text)
        except Exception as exc:
            log.exception("case %s: file %s could not be processed", view.case_id, shared.id)
            detail = error_message(view.lang, exc, self.ctx.style)
            text = t(view.lang, "upload.failed", name=name, detail=detail)
            await self._refuse(view, shared.id, text, status="failed")
        else:
            self.dispatch.submit(applied.work)

    @contextlib.asynccontextmanager
    async def _holding(self, file_id: str) -> AsyncIterator[None]:
        """Renew the claim every third of the lease while the file is worked on."""
        ctx = self.ctx
        self.working.add(file_id)

        async def renew() -> None:
            while True:
                await asyncio.sleep(ctx.config.upload_lease / 3)
                async with ctx.db.write() as session:
                    if not await uploads.renew(session, file_id, self.owner, ctx.clock()):
                        return  # taken over: finishing will fail, and say so

        heartbeat = asyncio.create_task(renew(), name=f"lease-{file_id}")
        try:
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await heartbeat
            self.working.discard(file_id)

    async def _say(self, view: CaseView, text: str) -> None:
        async with self.ctx.db.write() as session:
            await self._queue_text(session, view, text)
        self.ctx.wake.outbox.set()

    async def _queue_text(self, session: AsyncSession, view: CaseView, text: str) -> None:
        row = await cases.lock(session, view.case_id)
        if row is not None:
            await say(session, row, Message(text), self.ctx.clock())

    async def _process(
        self, shared: SharedFile, view: CaseView, name: str, version: int
    ) -> Applied:
        ctx = self.ctx
        lang, style = view.lang, ctx.style
        user = shared.user or ""
        which = view.state.file_step()
        if view.version != version:  # the case moved on while this file waited
            raise _Refused(t(lang, "upload.already_answered", name=name))
        if which not in UPLOAD_STEPS:
            raise _Refused(t(lang, "upload.not_expected", name=name))
        assert which is not None
        try:
            await Access(ctx.config, ctx.roster).check_may_answer(user)
        except NotOperator:
            raise _Refused(
                t(lang, "upload.not_operator", name=name, user=style.mention(user))
            ) from None
        if shared.size is not None and shared.size > self.limit:
            raise _Refused(self._too_large(lang, name, shared.size))
        mimetype = shared.mimetype or ""
        if which == Step.DEBUG_LOGS and mimetype.startswith(("image/", "text/csv")):
            raise _Refused(t(lang, "upload.not_a_bundle", name=name))
        size = _size(lang, shared.size) if shared.size is not None else "?"
        await self._say(
            view, t(lang, "upload.received", name=name, size=size, user=style.mention(user))
        )
        got = await self._download(shared, view, name, which)
        async with ctx.db.write() as session:
            if not await uploads.renew(session, shared.id, self.owner, ctx.clock()):
                raise _LostClaim()
            await timeline.add_event(
                session,
                view.case_id,
                EventKind.ARTIFACT,
                {"file": shared.id, "name": shared.name, "size": got.size, "sha256": got.sha256},
                ctx.clock(),
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
            raise _Refused(t(lang, "upload.failed", name=name, detail=shown)) from None
        lost = False

        async def done(session: AsyncSession) -> bool:
            nonlocal lost
            finished = await uploads.finish(
                session,
                shared.id,
                self.owner,
                "done",
                ctx.clock(),
                size=got.size,
                sha256=got.sha256,
            )
            lost = not finished  # rolls the answer back: the new owner gives it
            return finished

        note = outcome.note(actor=user, answer="upload", also=done)
        applied = await apply(ctx, view.case_id, view.version, outcome.observation, note)
        if isinstance(applied, Rejected) and not lost:
            applied = await self._still_evidence(view, outcome, note) or applied
        if lost:
            raise _LostClaim()
        if not isinstance(applied, Applied):
            raise _Refused(t(lang, "upload.already_answered", name=name))
        return applied

    async def _still_evidence(
        self, view: CaseView, outcome: StepOutcome, note: Note
    ) -> Applied | Rejected | None:
        """A bundle posted while the reboot's approval waits still counts when an approval
        moved the case on meanwhile (it waits for the same approval): applied at the case's
        version now. None when the case no longer waits for it."""
        async with self.ctx.db.read() as session:
            row = await cases.get_case(session, view.case_id)
        if row is None or row.version == view.version:
            return None
        if view_of(row).state.phase != Phase.AWAIT_REBOOT_APPROVAL:
            return None
        return await apply(self.ctx, row.id, row.version, outcome.observation, note)

    async def _download(
        self, shared: SharedFile, view: CaseView, name: str, which: Step
    ) -> Downloaded:
        ctx = self.ctx
        assert ctx.files is not None
        lang, style = view.lang, ctx.style
        folder = step_context(ctx, view).case_folder / "uploads"
        # one path per claim: a process that lost its claim never writes over the new owner's
        dest = folder / f"{safe_name(shared.id)}-{self.owner[:8]}-{safe_name(shared.name)}"
        try:
            got = await ctx.files.download(shared.id, dest, self.limit)
        except UploadRefused as exc:
            if exc.params.get("reason") == "too_large":
                size = int(exc.params.get("size") or self.limit + 1)
                raise _Refused(self._too_large(lang, name, size)) from None
            raise _Refused(
                t(lang, "upload.failed", name=name, detail=refusal_text(lang, exc, style))
            ) from None
        if which == Step.DEBUG_LOGS and await asyncio.to_thread(_not_a_bundle, got):
            raise _Refused(t(lang, "upload.not_a_bundle", name=name))
        return got

    async def _read(
        self, view: CaseView, which: Step, shared: SharedFile, got: Downloaded
    ) -> StepOutcome:
        ctx = self.ctx
        step = step_context(ctx, view)
        if which == Step.DETECTION_QUERY:
            start, end = await period(ctx, view)
            summary = await asyncio.to_thread(
                functools.partial(parse_detection_export, got.path, start, end, tz=ctx.config.tz)
            )
            return await with_usual(ctx, view, export_outcome(step, summary, shared.name))
        if which == Step.PACKET_CAPTURE:
            try:
                return await capture_outcome(step, shared.name, got.path)
            except CaptureError as exc:  # a broken capture: say why, let them post another
                # the detail quotes names from inside the archive: escaped as for a capture
                name = ctx.style.escape(shared.name[:200])
                detail = capture_escape(exc.detail)
                raise _Refused(t(view.lang, "upload.failed", name=name, detail=detail)) from None
        return debug_outcome(step, safe_name(shared.name), got.size, got.sha256)

    def _too_large(self, lang: str, name: str, size: int) -> str:
        limit = f"{self.ctx.config.max_upload_mb:g}"
        return t(lang, "upload.too_large", name=name, size=_size(lang, size), limit=limit)

    async def _refuse(
        self, view: CaseView, file_id: str, text: str, status: str = "refused"
    ) -> None:
        """Close the claim and say why, together (if the claim was still ours: else the new
        owner says)."""
        async with self.ctx.db.write() as session:
            now = self.ctx.clock()
            ours = await uploads.finish(session, file_id, self.owner, status, now, detail=text)
            if ours:
                await self._queue_text(session, view, text)
        self.ctx.wake.outbox.set()

    async def _case_of(
        self, shared: SharedFile, hint: tuple[str, str] | None = None
    ) -> CaseRow | None:
        threads = shared.threads or ((hint,) if hint else ())
        async with self.ctx.db.read() as session:
            for channel, thread_ts in threads:
                row = await cases.by_thread(session, channel, thread_ts)
                if row is not None and row.open_key is not None:
                    return row
        return None


def _not_a_bundle(got: Downloaded) -> bool:
    """A picture, a capture, or the zip of captures that step 3's export makes."""
    with got.path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(NOT_A_BUNDLE_MAGIC):
        return True
    if not head.startswith(b"PK"):
        return False
    try:  # the central directory only: nothing is inflated
        with zipfile.ZipFile(got.path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return bool(names) and all(n.lower().endswith(CAPTURE_SUFFIXES) for n in names)
