"""The vendor-ready escalation report, built from the case state."""

from __future__ import annotations

from bot.i18n import t
from bot.presenter import CaseView, Message, Style


def vendor_report(view: CaseView, style: Style, reboots: int) -> Message:
    lang, s = view.lang, view.state
    unknown = t(lang, "report.unknown")
    not_run = t(lang, "report.not_run")
    connection = f"`{style.escape(s.connection_message)}`" if s.connection_message else not_run
    detections = str(s.detections) if s.detections is not None else not_run
    capture = (
        t(lang, "report.packets", packets=s.capture_packets)
        if s.capture_packets is not None
        else not_run
    )
    debug = not_run
    if s.debug_bundle:
        debug = f"`{style.escape(s.debug_bundle)}` SHA-256 `{s.debug_sha256}`"
    lines = [
        t(lang, "report.title", case_id=view.case_id, appliance=style.escape(view.appliance)),
        "• " + t(lang, "report.connection", value=connection),
        *(
            ["• " + t(lang, "report.verify", value=f"`{style.escape(s.verify_message)}`")]
            if s.verify_message
            else []
        ),
        "• " + t(lang, "report.maintenance", value=unknown),
        "• " + t(lang, "report.detections", value=detections),
        "• " + t(lang, "report.capture", value=capture),
        "• " + t(lang, "report.debug", value=debug),
        "• " + t(lang, "report.reboots", value=reboots),
    ]
    return Message("\n".join(lines))
