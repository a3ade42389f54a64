"""CEF, TMEF and LEEF detection events as DDI sends them (keys from Trend Micro's syslog guides)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.syslog.events import DetectionEvent, Rejected, parse_event
from bot.syslog.framing import parse_syslog
from bot.syslog.times import parse_event_time

GUID = "6B593E17AFB7-40FBBB28-A4CE-0462-A536"
T0 = datetime(2024, 3, 9, 8, 5, 21, tzinfo=UTC).timestamp()  # 17:05:21 JST

CEF_THREAT = (
    "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|20|Malware URL requested - Type 1|6|"
    "rt=Mar 09 2024 17:05:21 GMT+09:00 cnt=1 cn3Label=ThreatType cn3=2 dvc=10.1.0.11 "
    f"dvchost=ddi-tokyo.example.co.jp deviceExternalId={GUID} deviceDirection=1 "
    "dhost=www.example.jp dst=203.0.113.7 dpt=80 act=not blocked app=HTTP shost=pc-001 "
    "src=10.20.30.40 spt=51234 request=http://bad.example/dl?id=7&t\\=x "
    "msg=不審なURLへのアクセスを検出しました cs1Label=PolicyCategory cs1=Reputation"
).encode()

TMEF_THREAT = (
    "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|1834|SMB2 Remote Code Execution|8|"
    "rt=1709971521000 app=SMB2 cnt=1 cn4Label=Deep Discovery_ThreatType cn4=4 "
    "cn5Label=AggregatedCnt cn5=1 cs4Label=Deep Discovery_SrcGroup cs4=監視グループ1 "
    f"deviceGUID={GUID} deviceMacAddress=00:0C:29:6E:CB:F9 dvc=10.1.0.11 dvchost=ddi-tokyo "
    "dst=10.1.2.3 dpt=445 src=10.9.8.7 spt=49152 externalId=11 interestedIp=10.1.2.3"
).encode()

LEEF_THREAT = (
    "LEEF:1.0|Trend Micro|Deep Discovery Inspector|6.7.1164|SECURITY_RISK_DETECTION|"
    "devTime=Mar 09 2024 17:05:21 GMT+09:00\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsev=6\t"
    f"dvc=10.1.0.11\tdvchost=ddi-tokyo\tdeviceGUID={GUID}\tthreatType=2\truleId=20\t"
    "ptype=IDS\tsrc=10.20.30.40\tdst=203.0.113.7\tmsg=マルウェアのURL\tpComp=NCIE"
).encode()


def event(body: bytes) -> DetectionEvent:
    result = parse_event(body)
    assert isinstance(result, DetectionEvent), result
    return result


def rejected(body: bytes) -> Rejected:
    result = parse_event(body)
    assert isinstance(result, Rejected), result
    return result


def test_cef_threat_log() -> None:
    e = event(CEF_THREAT)
    assert e == DetectionEvent(
        format="cef",
        event_id="20",
        severity=6,
        threat_type="2",
        dvc="10.1.0.11",
        dvchost="ddi-tokyo.example.co.jp",
        device_guid=GUID,
        timestamp=T0,
    )
    assert e.identifiers == (GUID, "ddi-tokyo.example.co.jp", "10.1.0.11")
    assert e.time == datetime(2024, 3, 9, 8, 5, 21, tzinfo=UTC)


def test_tmef_threat_log_is_cef_shaped_with_trend_keys() -> None:
    e = event(TMEF_THREAT)
    assert (e.format, e.event_id, e.severity, e.threat_type) == ("tmef", "1834", 8, "4")
    assert (e.device_guid, e.dvchost, e.dvc, e.timestamp) == (GUID, "ddi-tokyo", "10.1.0.11", T0)


def test_leef_1_threat_log() -> None:
    e = event(LEEF_THREAT)
    assert e == DetectionEvent("leef", "SECURITY_RISK_DETECTION", 6, "2", "10.1.0.11",
                               "ddi-tokyo", GUID, T0)  # fmt: skip


def test_leef_2_with_caret_and_hex_delimiters() -> None:
    ext = f"devTime=1709971521000^sev=4^dvchost=ddi-osaka^deviceGUID={GUID}^threatType=1"
    head = "LEEF:2.0|Trend Micro|Deep Discovery Inspector|6.7|DISRUPTIVE_APPLICATION_DETECTION"
    e = event(f"{head}|^|{ext}".encode())
    assert (e.format, e.severity, e.dvchost, e.device_guid, e.threat_type, e.timestamp) == (
        "leef", 4, "ddi-osaka", GUID, "1", T0,
    )  # fmt: skip
    e = event(f"{head}|x09|{ext.replace('^', chr(9))}".encode())
    assert e.dvchost == "ddi-osaka" and e.timestamp == T0
    e = event(f"{head}|0x5e|{ext}".encode())
    assert e.dvchost == "ddi-osaka"
    e = event(f"{head}||{ext.replace('^', chr(9))}".encode())  # empty field: tab
    assert e.dvchost == "ddi-osaka"
    e = event(f"{head}|{ext.replace('^', chr(9))}".encode())  # delimiter field left out
    assert e.dvchost == "ddi-osaka"


def test_leef_2_bad_delimiter() -> None:
    assert rejected(b"LEEF:2.0|Trend Micro|Deep Discovery Inspector|6.7|X_DETECTION|0xZZ|a=b") == (
        Rejected("bad", "bad LEEF 2.0 delimiter")
    )


def test_escapes_in_cef_header_and_values() -> None:
    body = (
        b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|a \\| pipe and \\\\ slash|6|"
        b"dvchost=ddi\\=01\\\\x cs1=one \\= two dvc=10.1.0.11 msg=line1\\nline2 rt=1709971521000"
    )
    e = event(body)
    assert (e.dvchost, e.dvc, e.timestamp) == ("ddi=01\\x", "10.1.0.11", T0)


def test_unescaped_equals_in_a_url_does_not_end_the_value_early() -> None:
    body = CEF_THREAT.replace(b"request=http://bad.example/dl?id=7&t\\=x ", b"") + (
        b" request=http://x.example/?a=b&c=d dvchost=last.example"
    )
    assert event(body).dvchost == "last.example"


def test_japanese_text_and_invalid_utf8_in_fields() -> None:
    body = CEF_THREAT.replace(b"dvchost=ddi-tokyo.example.co.jp", "dvchost=東京センサー".encode())
    assert event(body).dvchost == "東京センサー"
    body = CEF_THREAT.replace(b"dvchost=ddi-tokyo.example.co.jp", b"dvchost=bad\xff\xfe")
    assert event(body).dvchost == "bad\ufffd\ufffd"


def test_trailing_spaces_do_not_hide_the_last_value() -> None:
    e = event(b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|x|6|cn3=5 cn3Label=ThreatType  ")
    assert e.threat_type == "5"


def test_missing_fields_are_none() -> None:
    e = event(b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|x|High|")
    assert e == DetectionEvent("cef", "20", None, None, None, None, None, None)
    assert e.identifiers == () and e.time is None


def test_relayed_body_with_a_tag_before_the_event() -> None:
    assert event(b"ddi-tokyo: " + CEF_THREAT).dvchost == "ddi-tokyo.example.co.jp"
    assert event(b"relay " + LEEF_THREAT).dvchost == "ddi-tokyo"


def test_full_lines_with_syslog_headers() -> None:
    for line in (
        b"<134>Mar 09 17:05:21 ddi-tokyo " + CEF_THREAT,
        b"<134>1 2024-03-09T08:05:21Z ddi-tokyo - - - - " + TMEF_THREAT,
        b'<134>1 2024-03-09T08:05:21Z ddi-tokyo ddi - LOG [x@1 a="]"] ' + LEEF_THREAT,
    ):
        message = parse_syslog(line)
        assert message is not None
        assert event(message.body).timestamp == T0


@pytest.mark.parametrize(
    "body",
    [
        b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|300999|SYSTEM_EVENT|3|msg=login",
        b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|200119|VA_ANALYSIS|3|",
        b"LEEF:1.0|Trend Micro|Deep Discovery Inspector|6.7|SYSTEM_EVENT|sev=3\tmsg=x",
        b"LEEF:1.0|Trend Micro|Deep Discovery Inspector|6.7|300105|sev=3",
    ],
)
def test_ddi_events_that_are_not_detections_are_ignored(body: bytes) -> None:
    assert rejected(body) == Rejected("ignored", "not a detection event")


@pytest.mark.parametrize(
    "body",
    [
        b"CEF:0|Trend Micro|Deep Security Agent|20.0|4000000|Eicar_test_file|6|dvchost=x",
        b"CEF:0|Palo Alto Networks|PAN-OS|10.1|threat|THREAT|5|src=1.2.3.4",
        b"LEEF:2.0|Trend Micro|Deep Security Manager|11.0|851|\tcat=System",
    ],
)
def test_other_products_are_ignored(body: bytes) -> None:
    assert rejected(body).reason == "not a Deep Discovery Inspector event"


def test_vendor_and_product_match_ignores_case() -> None:
    assert event(CEF_THREAT.replace(b"Trend Micro|Deep Discovery Inspector",
                                    b"TREND MICRO|Deep discovery inspector")).dvc  # fmt: skip


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"session opened for user root by (uid=0)", "ignored"),
        ("ログイン成功".encode(), "ignored"),
        (b"", "ignored"),
        (b"\x00\x01\x02\xff\xfe binary", "bad"),
        (b"\xff\xfe\xfd", "bad"),
        (b"ok text \x07 with a bell", "bad"),
        (b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7", "bad"),
        (b"CEF:0|Trend Micro|Deep Discovery Inspector|6.7|20|name", "bad"),
        (b"CEF:9|Trend Micro|Deep Discovery Inspector|6.7|20|name|6|", "bad"),
        (b"LEEF:1.0|Trend Micro|Deep Discovery Inspector|6.7", "bad"),
        (b"LEEF:3.0|Trend Micro|Deep Discovery Inspector|6.7|X|a=b", "bad"),
        (b"LEEF:", "bad"),
    ],
)
def test_ignored_and_bad_lines(body: bytes, kind: str) -> None:
    assert rejected(body).kind == kind


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Mar 09 2024 17:05:21 GMT+09:00", T0),
        (b"Mar  9 2024 17:05:21 GMT+09:00", T0),
        (b"Mar 09 2024 08:05:21 GMT+00:00", T0),
        (b"Mar 09 2024 08:05:21 UTC", T0),
        (b"Mar 09 2024 08:05:21 GMT", T0),
        (b"Mar 09 2024 03:05:21 -0500", T0),
        (b"Mar 09 2024 17:05:21.250 GMT+09:00", T0 + 0.25),
        (b"1709971521000", T0),
        (b"1709971521", T0),
        (b"2024-03-09T17:05:21+09:00", T0),
        (b"2024-03-09T08:05:21.000Z", T0),
        (b"Mar 09 2024 17:05:21", None),  # no zone: ambiguous
        (b"Mar 09 2024 17:05:21 JST", None),  # a zone name we cannot read
        (b"2024-03-09T17:05:21", None),
        (b"Foo 09 2024 17:05:21 GMT", None),
        (b"Feb 30 2024 17:05:21 GMT", None),
        (b"Mar 09 2024 25:xx:21 GMT", None),
        (b"Mar 09 2024 17:05:21 GMT+99:00", None),
        (b"12345", None),
        (b"", None),
        (b"yesterday", None),
    ],
)
def test_event_times(raw: bytes, expected: float | None) -> None:
    assert parse_event_time(raw) == expected
