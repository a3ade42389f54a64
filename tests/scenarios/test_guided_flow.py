"""A real sensor (guided driver): console instructions, answers by buttons, modals and files
posted in the thread, exactly as Slack sends them."""

from __future__ import annotations

import hashlib
import io
import ssl
import time
import zipfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from conftest import APPROVER, GUIDED, OPERATOR, Harness
from fakeslack import Call
from sqlalchemy import select

from bot.simulator.pcapgen import simulated_capture
from storage.models import UploadRow


def _csv(rows: int, hours_ago: float = 1.0) -> bytes:
    """A detection export in the console's column layout, with detections an hour old."""
    when = datetime.now(UTC) - timedelta(hours=hours_ago)
    lines = ["Detection Time,Severity,Threat Type,Threat Name,Source IP,Destination IP"]
    for i in range(rows):
        severity = "High" if i % 2 else "Medium"
        lines.append(
            f"{when:%Y-%m-%d %H:%M:%S},{severity},Malicious Behavior,TROJ_{i},"
            f"10.0.0.{i},203.0.113.1"
        )
    return ("\n".join(lines) + "\n").encode()


def _texts(h: Harness) -> str:
    return "\n".join(c.args["text"] for c in h.slack.posts())


async def _guide(h: Harness, step: int, count: int = 1) -> Call:
    def find() -> Call | None:
        found = [
            c
            for c in h.slack.posts()
            if c.args["text"].startswith(f"*Step {step} ") and "on the console of" in c.args["text"]
        ]
        return found[count - 1] if len(found) >= count else None

    result: Call = await h.wait_for(find)
    return result


async def _uploads(h: Harness) -> list[UploadRow]:
    async with h.runtime.engine.sessions() as session:
        return list((await session.execute(select(UploadRow))).scalars())


async def test_a_guided_case_runs_to_resolved_on_answers_and_files(harness: Harness) -> None:
    h = harness
    await h.command(GUIDED)
    root = await h.wait_for(
        lambda: next((c for c in h.slack.posts() if "thread_ts" not in c.args), None)
    )
    thread = root.ts

    # the bot's own probes of the console come first: TLS, and the certificate's fingerprint
    step1 = await _guide(h, 1)
    der = ssl.PEM_cert_to_DER_cert(h.console.cert.read_text(encoding="ascii"))
    fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    probes = _texts(h)
    assert f"`{h.console.address}`" in probes and fingerprint in probes

    # step 1: the exact console path, then "Other message…" opens a modal
    assert "Threat Management Services Portal > *Test Connection*" in step1.args["text"]
    await h.click(step1, "Other message")
    opened = await h.wait_for(lambda: h.slack.by("views.open"))
    view = opened[0].args["view"]
    assert view["callback_id"] == "ddi_connection_message"
    response = await h.submit(
        view,
        {
            "message": {"type": "plain_text_input", "value": "Unable to connect to <!channel>"},
            "maintenance": {"type": "radio_buttons", "selected_option": {"value": "yes"}},
            "notes": {"type": "plain_text_input", "value": "core switch firmware upgrade"},
        },
    )
    assert response.status_code == 200

    # step 2: instructions with the period; the export is posted in the thread, announced twice
    step2 = await _guide(h, 2)
    assert "Detection Log Query" in step2.args["text"]
    assert "Unable to connect to &lt;!channel&gt;" in _texts(h)  # escaped, shown as given
    assert "core switch firmware upgrade" in _texts(h)
    file_id = await h.post_file("detections.csv", _csv(6), thread)
    debug_question = await h.prompt("Collect")
    assert "6" in _texts(h) and "High" in _texts(h)
    uploads = await _uploads(h)
    assert [(u.file_id, u.status) for u in uploads] == [(file_id, "done")]
    assert h.slack.downloads == [file_id]  # two events, one download

    # step 4: the debug bundle, kept with its SHA-256
    await h.click(debug_question, "Collect")
    step4 = await _guide(h, 4)
    assert "https://127.0.0.1/html/troubleshooting.htm" in step4.args["text"]
    # a screenshot or step 3's capture is not the bundle: refused, and the step still waits
    await h.post_file("console.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, thread)
    await h.wait_for(lambda: "`console.png` is a picture, a capture" in _texts(h))
    capture_name, capture = simulated_capture(time.time() - 60, time.time(), has_traffic=True)
    await h.post_file(capture_name, capture, thread)
    await h.wait_for(lambda: f"`{capture_name}` is" in _texts(h))
    bundle = b"debug-bundle" * 1000
    await h.post_file("ddi-debug.tar.gz", bundle, thread, events=("message", "file_shared"))
    approval = await h.prompt("Approve reboot")
    assert hashlib.sha256(bundle).hexdigest() in _texts(h)

    # step 5: approved, then the person reboots and says so; the console answers again
    await h.click(approval, "Approve reboot", user=APPROVER)
    step5 = await _guide(h, 5)
    assert "System Maintenance > *Reboot*" in step5.args["text"]
    await h.click(step5, "Rebooted")

    # verification: step 1 again, answered with the button this time
    again = await _guide(h, 1, count=2)
    await h.click(again, "Verified Connection")
    row = await h.wait_closed(GUIDED)
    assert row.outcome == "resolved"
    # the decision-like answers are recorded with who gave them
    report_texts = _texts(h)
    assert f"<@{OPERATOR}>" in report_texts


async def test_no_detections_leads_to_a_capture_that_is_analysed(harness: Harness) -> None:
    h = harness
    await h.command(GUIDED)
    step1 = await _guide(h, 1)
    thread = step1.args["thread_ts"]
    await h.click(step1, "Verified Connection")
    step2 = await _guide(h, 2)
    await h.click(step2, "Enter a count")
    view = (await h.wait_for(lambda: h.slack.by("views.open")))[0].args["view"]
    bad = await h.submit(view, {"count": {"type": "plain_text_input", "value": "lots"}})
    assert bad.json()["response_action"] == "errors"  # the modal stays open and says why
    await h.submit(view, {"count": {"type": "plain_text_input", "value": "0"}})
    traffic = await h.prompt("Capture packets")
    await h.click(traffic, "Capture packets")
    step3 = await _guide(h, 3)
    assert "(eth1)" in step3.args["text"]
    # a broken capture whose member name tries to close a code span: refused, name defused
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("evil` <!channel>.pcap", b"not a capture")
    await h.post_file("broken.zip", buffer.getvalue(), thread)
    refusal = await h.wait_for(
        lambda: next(
            (c for c in h.slack.posts() if "`broken.zip` could not" in c.args["text"]), None
        )
    )
    assert "evil`" not in refusal.args["text"] and "<!channel>" not in refusal.args["text"]
    now = time.time()
    name, export = simulated_capture(now - 60, now, has_traffic=True)
    await h.post_file(name, export, thread)
    await h.prompt("Collect")
    texts = _texts(h)
    assert "packets" in texts
    assert h.slack.by("files.getUploadURLExternal")  # the chart went up too


async def test_files_that_cannot_be_used_are_refused_with_a_reason(harness: Harness) -> None:
    h = harness
    h.runtime.engine.config.__dict__["max_upload_mb"] = 1.0  # frozen dataclass: test-only tweak
    await h.command(GUIDED)
    step1 = await _guide(h, 1)
    thread = step1.args["thread_ts"]
    # a file while step 1 waits for a button: not used, and the case still waits
    await h.post_file("notes.txt", b"hello", thread)
    await h.wait_for(lambda: "was not used" in _texts(h))
    await h.click(step1, "Verified Connection")
    await _guide(h, 2)
    # a file in another thread, or in the channel: none of the bot's business
    await h.post_file("other.csv", _csv(3), "1799999999.000001")
    await h.post_file("chan.csv", _csv(3), None)
    # too large (as Slack reports it): refused before any download
    await h.post_file("huge.csv", _csv(3), thread, size=5 * 1024 * 1024)
    await h.wait_for(lambda: "over 1 MB" in _texts(h))
    # someone who may not run checks
    h.runtime.engine.config.__dict__["operators"] = frozenset({OPERATOR})
    await h.post_file("intruder.csv", _csv(3), thread, user="U0STRANGER")
    await h.wait_for(lambda: "not allowed" in _texts(h))
    # not a detection export
    await h.post_file("picture.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", thread)
    await h.wait_for(lambda: "`picture.csv` could not be used" in _texts(h))
    statuses = {u.name: u.status for u in await _uploads(h)}
    assert statuses == {
        "notes.txt": "refused",
        "huge.csv": "refused",
        "intruder.csv": "refused",
        "picture.csv": "refused",
    }
    assert h.slack.downloads == [
        fid for fid, (info, _) in h.slack.files.items() if info["name"] == "picture.csv"
    ]
    # the step still waits: a good export is taken
    await h.post_file("good.csv", _csv(2), thread)
    await h.prompt("Collect")
    row = await h.case(GUIDED)
    assert row.open_key is not None


async def test_an_escalated_guided_case_reports_what_people_answered(harness: Harness) -> None:
    h = harness
    await h.command(GUIDED)
    step1 = await _guide(h, 1)
    await h.click(step1, "Other message")
    view = (await h.wait_for(lambda: h.slack.by("views.open")))[0].args["view"]
    await h.submit(
        view,
        {
            "message": {"type": "plain_text_input", "value": "Connection timed out"},
            "maintenance": {"type": "radio_buttons", "selected_option": {"value": "no"}},
        },
    )
    step2 = await _guide(h, 2)
    await h.click(step2, "Enter a count")
    count_view = (
        await h.wait_for(lambda: len(h.slack.by("views.open")) == 2 and h.slack.by("views.open"))
    )[1].args["view"]
    await h.submit(count_view, {"count": {"type": "plain_text_input", "value": "0"}})
    await h.prompt("Capture packets")
    await h.command(f"escalate {GUIDED}")
    row = await h.wait_closed(GUIDED)
    assert row.outcome == "escalated"
    report = next(c.args["text"] for c in h.slack.posts() if "Vendor report" in c.args["text"])
    assert "Connection test result: `Connection timed out`" in report
    assert "Network maintenance around that time: No" in report
    assert f"console `{h.console.address}` OK" in report
    assert "Detections: 0" in report


async def test_instructions_slack_lost_are_posted_again_by_a_second_check(
    harness: Harness,
) -> None:
    h = harness
    engine = h.runtime.engine
    engine.config = replace(engine.config, retry_first=600.0)  # no retry of its own here
    h.slack.lose_questions = 1  # the post of step 1's buttons fails
    await h.command(GUIDED)
    await h.wait_for(lambda: h.slack.lose_questions == 0)
    await h.runtime.engine.tasks.drain()
    assert not [c for c in h.slack.posts() if "on the console of" in c.args["text"]]
    await h.command(GUIDED)  # "already open", and what it waits for is posted again
    reply = await h.wait_for(lambda: h.slack.responses)
    assert "posted again" in reply[-1]["text"]
    step1 = await _guide(h, 1)
    await h.click(step1, "Verified Connection")
    await _guide(h, 2)


async def test_a_slow_user_group_read_never_outlives_the_modal_trigger(harness: Harness) -> None:
    h = harness
    engine = h.runtime.engine
    engine.config = replace(engine.config, operators=frozenset({"S0OPS"}))
    h.slack.usergroups["S0OPS"] = [OPERATOR]
    await h.command(GUIDED)  # the first read is quick: the case opens
    step1 = await _guide(h, 1)
    h.runtime.engine.ctx.roster.ttl = 0.0  # the next click reads the group again...
    h.slack.slow["usergroups.users.list"] = [2.5]  # ...later than the trigger_id lives
    started = time.monotonic()
    await h.click(step1, "Other message")
    told = await h.wait_for(lambda: h.slack.by("chat.postEphemeral"))
    assert "did not say in time" in told[-1].args["text"]
    assert told[-1].at - started < 2.5  # told within the trigger's life, not after the read
    assert h.slack.by("views.open") == []
