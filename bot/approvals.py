"""What the reboot question shows its approvers: the evidence they decide on, and who has
approved so far when a reboot needs several of them."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n import t
from bot.runbook import CaseState
from bot.runbook.evidence import evidence

MESSAGE_CHARS = 200  # step 1's result is quoted whole in the thread; here a line is enough


def summary(
    lang: str, state: CaseState, escape: Callable[[str], str], mention: Callable[[str], str]
) -> str:
    """The evidence block and the quorum line of the reboot question, in ``lang``."""
    lines = [t(lang, "approval.evidence", digest=evidence(state))]
    if state.connection_verified is None:
        result = t(lang, "approval.evidence.unknown")
    else:
        key = "verified" if state.connection_verified else "not_verified"
        result = t(lang, f"approval.evidence.{key}")
        if state.connection_message:
            result += f" (`{escape(_line(state.connection_message))}`)"
    lines.append(t(lang, "approval.evidence.connection", result=result))
    if state.detections is not None:
        lines.append(t(lang, "approval.evidence.detections", count=state.detections))
    if state.capture_packets is None:
        lines.append(t(lang, "approval.evidence.no_capture"))
    else:
        seen = "receiving" if state.capture_receiving else "not_receiving"
        lines.append(
            t(
                lang,
                "approval.evidence.capture",
                packets=f"{state.capture_packets:,}",
                receiving=t(lang, f"approval.evidence.{seen}"),
            )
        )
    if state.debug_bundle and state.debug_sha256:
        name, sha = escape(state.debug_bundle), state.debug_sha256[:16]
        lines.append(t(lang, "approval.evidence.bundle", name=name, sha=sha))
    else:
        lines.append(t(lang, "approval.evidence.no_bundle"))
    if state.reboot_attempts:
        lines.append(t(lang, "approval.evidence.attempts", count=state.reboot_attempts))
    if state.approvals_required > 1:
        who = ", ".join(mention(user) for user in state.approved_by)
        so_far = t(lang, "approval.so_far", who=who) if who else ""
        lines.append(
            t(
                lang,
                "approval.quorum",
                count=len(state.approved_by),
                required=state.approvals_required,
                so_far=so_far,
            )
        )
    return "\n".join(lines)


def _line(text: str) -> str:
    """One line of outside text for a code span: no backtick can close it early."""
    first = " ".join(text.replace("`", "'").split())
    return first if len(first) <= MESSAGE_CHARS else first[: MESSAGE_CHARS - 1] + "…"
