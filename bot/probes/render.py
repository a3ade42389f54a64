"""A probe report as a few short mrkdwn lines, in English or Japanese. Pure.

Everything that came from the network or the inventory (names, certificate fields, error texts,
banners) goes through ``style.escape`` and is cut to one short line first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.i18n import t
from bot.presenter import Style
from bot.probes.model import (
    CertInfo,
    ConsoleReport,
    PinStatus,
    ProbeKind,
    ProbeReport,
    ProbeResult,
    ServerReport,
    Trust,
    Verification,
)

MAX_DETAIL = 200  # characters of outside text on one line
EXPIRY_WARNING_DAYS = 30
OK, WARN, FAIL, INFO = "✅", "⚠️", "❌", "ℹ️"


def render_report(lang: str, report: ProbeReport, style: Style) -> list[str]:
    lines = [t(lang, "probe.title")]
    if report.console is None:
        lines.append(t(lang, "probe.console.none"))
    else:
        lines.extend(render_console(lang, report.console, style))
    if report.tmsp:
        lines.append(t(lang, "probe.tmsp.title"))
        lines.extend(render_server(lang, server, style) for server in report.tmsp)
    else:
        lines.append(t(lang, "probe.tmsp.none"))
    return lines


def render_console(lang: str, console: ConsoleReport, style: Style) -> list[str]:
    icon = _icon(console.probes)
    target = _code(console.target, style)
    steps = _steps(lang, console.probes, style)
    lines = [t(lang, "probe.console.line", icon=icon, target=target, steps=steps)]
    if console.certificate is not None:
        lines.extend(_certificate(lang, console.certificate, console.target, style))
    return lines


def render_server(lang: str, server: ServerReport, style: Style) -> str:
    icon = _icon(server.probes)
    steps = _steps(lang, server.probes, style)
    return t(lang, "probe.tmsp.line", icon=icon, target=_code(server.target, style), steps=steps)


def _icon(probes: tuple[ProbeResult, ...]) -> str:
    if not probes or any(not p.ok and p.kind != ProbeKind.BANNER for p in probes):
        return FAIL
    return OK if all(p.ok for p in probes) else WARN


def _steps(lang: str, probes: Iterable[ProbeResult], style: Style) -> str:
    return " · ".join(_step(lang, probe, style) for probe in probes)


def _step(lang: str, probe: ProbeResult, style: Style) -> str:
    kind = t(lang, f"probe.kind.{probe.kind.value}")
    if not probe.ok:
        failure = t(lang, f"probe.failure.{probe.failure.value}") if probe.failure else "?"
        detail = _code(probe.detail or probe.target, style)
        return t(lang, "probe.step.failed", kind=kind, failure=failure, detail=detail)
    text = t(lang, "probe.step.ok", kind=kind, ms=_ms(probe.latency_ms))
    if probe.detail and probe.kind == ProbeKind.BANNER:
        text += " " + _code(probe.detail, style)
    elif probe.detail:  # the addresses a name resolved to, the TLS version
        text += f" ({_outside(probe.detail, style)})"
    return text


def _ms(value: float | None) -> str:
    if value is None:
        return "?"
    return "<1" if value < 1 else f"{value:.0f}"


def _certificate(lang: str, cert: CertInfo, target: str, style: Style) -> list[str]:
    lines: list[str] = []
    if cert.pin == PinStatus.MISMATCH:  # first and loud: this may be an impostor
        lines.append(t(lang, "probe.pin.mismatch", pinned=_code(cert.pinned or "", style)))
    if cert.error is not None:
        lines.append(t(lang, "probe.cert.unreadable", detail=_code(cert.error, style)))
    else:
        subject, issuer = _code(cert.subject, style), _code(cert.issuer, style)
        if cert.subject == cert.issuer:
            lines.append(t(lang, "probe.cert.self_signed", subject=subject))
        else:
            lines.append(t(lang, "probe.cert.subject", subject=subject, issuer=issuer))
    validity = _validity(lang, cert)
    if validity:
        lines.append(validity)
    lines.append(t(lang, "probe.cert.fingerprint", fingerprint=f"`{cert.sha256}`"))
    if cert.pin == PinStatus.MATCHES:
        lines.append(t(lang, "probe.pin.matches"))
    elif cert.pin == PinStatus.NOT_PINNED:
        lines.append(t(lang, "probe.pin.not_pinned"))
    if cert.verification is not None:
        # a matching pin is the trust decision: an untrusted chain is then only worth a note
        pinned = cert.pin == PinStatus.MATCHES
        lines.append(_trust(lang, cert.verification, target, style, pinned=pinned))
    return lines


def _validity(lang: str, cert: CertInfo) -> str | None:
    if cert.not_after is None or cert.days_left is None:
        return None
    if cert.expired:
        return t(lang, "probe.cert.expired", date=_date(cert.not_after), days=-cert.days_left)
    if cert.not_yet_valid and cert.not_before is not None:
        return t(lang, "probe.cert.not_yet_valid", date=_date(cert.not_before))
    icon = WARN if cert.days_left <= EXPIRY_WARNING_DAYS else "📅"
    return t(lang, "probe.cert.expires", icon=icon, date=_date(cert.not_after), days=cert.days_left)


def _date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _trust(
    lang: str, verification: Verification, target: str, style: Style, *, pinned: bool
) -> str:
    if verification.ca_file is None:
        source = t(lang, "probe.trust.system")
    else:
        source = t(lang, "probe.trust.ca_file", path=_code(verification.ca_file, style))
    if verification.trust == Trust.VERIFIED:
        return t(lang, "probe.trust.verified", source=source)
    if verification.trust == Trust.NAME_MISMATCH:
        return t(
            lang,
            "probe.trust.name_mismatch",
            source=source,
            target=_code(target, style),
            names=_code(verification.detail, style),
        )
    key = (
        "probe.trust.untrusted" if verification.trust == Trust.UNTRUSTED else "probe.trust.unknown"
    )
    icon = INFO if pinned else WARN
    return t(lang, key, icon=icon, source=source, detail=_code(verification.detail, style))


def _outside(text: str, style: Style) -> str:
    """Outside text, on one line, short, and unable to ping, link or break a code span."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(flat) > MAX_DETAIL:
        flat = flat[: MAX_DETAIL - 1] + "…"
    return style.escape(flat.replace("`", "'"))


def _code(text: str, style: Style) -> str:
    return f"`{_outside(text, style)}`"
