"""The case file of one case, read from the database (its building is ``bot.casefile``):
attached to the thread when the case closes, and on ``/ddi-check export N``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.casefile import CaseRecord, DecisionRecord, RebootRecord, StepRun, TimelineEvent
from bot.errors import UnknownAppliance
from bot.inventory import Appliance, Inventory
from storage import cases, side_effects, timeline


async def case_record(
    session: AsyncSession, inventory: Inventory, case_id: int
) -> CaseRecord | None:
    """Everything the case file shows, as stored now (``None``: no such case)."""
    row = await cases.get_case(session, case_id)  # re-read: this transaction may have changed it
    if row is None:
        return None
    events = await timeline.events(session, case_id)
    probes = None
    shown_on: dict[int, str] = {}  # a reboot decision's evidence, by the version it answered
    for event in events:
        if event.kind == timeline.EventKind.PROBES.value:
            probes = event.data
        elif event.kind == timeline.EventKind.DECISION.value and "evidence" in event.data:
            shown_on[int(event.data["version"])] = str(event.data["evidence"])
    return CaseRecord(
        case_id=row.id,
        appliance=row.appliance,
        lang=row.lang,
        requested_by=row.requested_by,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        phase=row.phase,
        outcome=row.outcome,
        reason=row.state.get("reason"),
        version=row.version,
        inventory=_inventory_entry(inventory, row.appliance),
        steps=[
            StepRun(r.step, r.started_at, r.finished_at, r.outcome, dict(r.result or {}))
            for r in await timeline.step_runs(session, case_id)
        ],
        decisions=[
            DecisionRecord(
                d.point,
                d.choice,
                d.user_id,
                d.decided_at,
                d.case_version,
                shown_on.get(d.case_version) if d.point == "reboot" else None,
            )
            for d in await cases.decisions_of(session, case_id)
        ],
        reboots=[
            RebootRecord(r.key, r.outcome, r.recorded_at, r.completed_at)
            for r in await side_effects.for_case(session, case_id, "reboot")
        ],
        events=[TimelineEvent(e.seq, e.at, e.kind, e.actor, e.data, e.hash) for e in events],
        chain_events=row.events_count,
        chain_head=row.events_head,
        probes=probes,
    )


def _inventory_entry(inventory: Inventory, name: str) -> Appliance | None:
    try:
        return inventory.get(name)
    except UnknownAppliance:
        return None
