"""What a reboot's approvers decide on, as a short digest.

The question shows the evidence (step 1's result, detections, the capture, the debug bundle,
an earlier reboot that failed); its buttons carry this digest, and each approval records it.
An approval given on other evidence than the case holds now is refused: something changed
since the approver read the question (a late file, a failed reboot), and they must read again.
Approvals themselves are not evidence: a second approver's click on the same evidence counts.
"""

from __future__ import annotations

import hashlib
import json

from bot.runbook.model import CaseState, Step

_EVIDENCE = (
    "connection_verified",
    "connection_message",
    "detections",
    "capture_packets",
    "capture_receiving",
    "debug_bundle",
    "debug_sha256",
    "failure",
    "reboot_attempts",
    "reboot_interrupted",
    "rechecks",
)
DIGEST_CHARS = 16  # 64 bits: a digest tells two versions of one case apart, nothing more


def evidence(state: CaseState) -> str:
    """The digest of what the reboot question shows about ``state``."""
    shown = {name: getattr(state, name) for name in _EVIDENCE}
    steps = sorted(state.steps.items())
    shown["steps"] = {str(k): v.value for k, v in steps if k != Step.REBOOT.value}
    text = json.dumps(shown, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]
