"""``ddi-bot case verify N``: whether a case's stored timeline is intact (its hash chain).

Exit status 0 when intact, 1 when an event was altered, inserted or removed (the first one is
named), 2 when the case does not exist or the database cannot be read. (Its arguments are
declared in ``bot.cli``, which imports this only when it runs: the database layer is slow to
import.)
"""

from __future__ import annotations

from bot.errors import CaseNotFound
from bot.i18n import t
from bot.startup import open_existing_database
from storage import timeline


async def verify(database_url: str, case_id: int, lang: str) -> int:
    db = await open_existing_database(database_url)
    try:
        async with db.read() as session:
            verdict = await timeline.verify_chain(session, case_id)
    finally:
        await db.dispose()
    if verdict is None:
        raise CaseNotFound(f"case #{case_id} is not in this database (DDI_BOT_DATABASE_URL)")
    if verdict.intact:
        print(t(lang, "verify.intact", case_id=case_id, events=verdict.events, head=verdict.head))
        return 0
    key = f"verify.{verdict.reason}"
    print(
        t(
            lang,
            key,
            case_id=case_id,
            event=verdict.bad_event if verdict.bad_event is not None else "-",
            seq=verdict.bad_seq,
            good=verdict.events,
        )
    )
    return 1
