"""Guided steps: the exact console actions a person does on a real sensor, with the buttons
they answer with (pure; the engine posts them and waits)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from bot.i18n import t
from bot.presenter import Button, CaseView, Message, Style
from bot.probes import endpoint_or_none
from bot.runbook import Step


class GuideAction(StrEnum):
    VERIFIED = "verified"  # step 1: the console shows "Verified Connection"
    OTHER = "other"  # step 1: opens a modal to paste the message shown
    COUNT = "count"  # step 2: opens a modal to enter the number of detections
    REBOOTED = "rebooted"  # step 5: the person rebooted the sensor


VERIFIED_TEXT = "Verified Connection"  # what the console shows on success (never translated)
UPLOAD_STEPS = (Step.DETECTION_QUERY, Step.PACKET_CAPTURE, Step.DEBUG_LOGS)


def console_host(console: str | None) -> str | None:
    """The console's host part, for the debug-log URL (IPv6 in brackets)."""
    endpoint = endpoint_or_none(console)
    if endpoint is None:
        return None
    return f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host


def instructions(
    view: CaseView,
    which: Step,
    style: Style,
    *,
    console: str | None,
    capture_interface: str | None,
    period: tuple[datetime, datetime],
    upload_limit_mb: float,
    tz: tzinfo = UTC,
) -> Message:
    lang = view.lang
    value = f"{view.case_id}:{view.version}"
    title = t(
        lang,
        "guide.title",
        step=which.value,
        name=t(lang, f"step.{which.value}"),
        appliance=style.escape(view.appliance),
    )
    params: dict[str, str] = {}
    buttons: tuple[Button, ...] = ()
    if which == Step.CONNECTION_TEST:
        buttons = (
            Button(GuideAction.VERIFIED, t(lang, "guide.button.verified"), value, "primary"),
            Button(GuideAction.OTHER, t(lang, "guide.button.other"), value),
        )
    elif which == Step.DETECTION_QUERY:
        start, end = (moment.astimezone(tz) for moment in period)
        params = {"start": f"{start:%Y-%m-%d %H:%M}", "end": f"{end:%Y-%m-%d %H:%M} ({tz})"}
        buttons = (Button(GuideAction.COUNT, t(lang, "guide.button.count"), value),)
    elif which == Step.PACKET_CAPTURE:
        params = {
            "interface": t(lang, "guide.3.interface", interface=style.escape(capture_interface))
            if capture_interface
            else ""
        }
    elif which == Step.DEBUG_LOGS:
        host = console_host(console)
        url = (
            f"https://{style.escape(host)}/html/troubleshooting.htm"
            if host
            else t(lang, "guide.unknown_console")
        )
        params = {"url": url}
    elif which == Step.REBOOT:
        buttons = (Button(GuideAction.REBOOTED, t(lang, "guide.button.rebooted"), value),)
    then_params = {"limit": f"{upload_limit_mb:g}"} if which == Step.DEBUG_LOGS else {}
    text = "\n".join(
        (
            title,
            "• " + t(lang, f"guide.{which.value}.path", **params),
            t(lang, f"guide.{which.value}.then", **then_params),
        )
    )
    return Message(text, buttons)
