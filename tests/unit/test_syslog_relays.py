"""DDI detections as they reach the bot through relays, each line written from the relay's
documented behaviour, through the whole pipeline: header, event, mapping and count.

- rsyslog's RFC 3164 parser ends the tag at ``:``, so ``CEF:0|...`` becomes tag ``CEF:`` and
  message ``0|...``; ``RSYSLOG_SyslogProtocol23Format`` then forwards APP-NAME ``CEF`` and MSG
  ``0|...``, and ``RSYSLOG_ForwardFormat`` an RFC 3339 time with ``%syslogtag%`` and
  ``%msg:::sp-if-no-1st-sp%`` (``CEF: 0|...``). With ``$EscapeControlCharactersOnReceive`` (on by
  default) a tab arrives as ``#011`` (prefix ``#``) or ``\\011`` (prefix ``\\``).
- syslog-ng reads PROGRAM ``CEF`` and MSG ``0|...``; its legacy output writes ``PROGRAM: MSG``
  (``CEF: 0|...``), its ``syslog()`` output APP-NAME ``CEF``.
- A relay that wraps what it received in its own header keeps the original inside the MSG.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import InventoryError
from bot.syslog.counter import DetectionCounter
from bot.syslog.events import DetectionEvent, parse_event
from bot.syslog.mapping import SyslogIndex
from bot.syslog.pipeline import MessageHandler

GUID = "6B593E17AFB7-40FBBB28-A4CE-0462-A536"
NOW = datetime(2024, 3, 9, 8, 6, 0, tzinfo=UTC).timestamp()
EVENT_MINUTE = datetime(2024, 3, 9, 8, 5, tzinfo=UTC)  # 17:05:21 JST
# Shaped like the DDI 6.0 CEF detections published with SIEM integrations: a space in the threat
# type's label, dvchost=localhost (the sensor's host name was never set), the address in dvc.
CEF_BODY = (
    "0|Trend Micro|Deep Discovery Inspector|6.0.1208|20|Malware URL requested - Type 1|6|"
    "dvc=10.1.0.11 dvcmac=00:0C:29:A6:53:0C dvchost=localhost deviceExternalId=" + GUID + " "
    "rt=Mar 09 2024 17:05:21 GMT+09:00 app=HTTP deviceDirection=1 dhost=www.example.com "
    "dst=203.0.113.7 dpt=80 shost=172.16.1.197 src=172.16.1.197 spt=12121 "
    "cs3Label=HostName_Ext cs3=www.example.com cn3Label=Threat Type cn3=2 "
    "request=http://www.example.com/dl.exe act=not blocked cn1Label=VLANId cn1=4095"
)
LEEF_EXT = (
    "devTime=Mar 09 2024 17:05:21 GMT+09:00\tdevTimeFormat=MMM dd yyyy HH:mm:ss z\tsev=6\t"
    "dvc=10.2.0.11\tdvchost=localhost\tThreatType=4\truleId=1834\tmsg=SMB2 exploit"
)
LEEF_HEAD = "1.0|Trend Micro|Deep Discovery Inspector|6.0.1208|SECURITY_RISK_DETECTION|"


def handler() -> tuple[MessageHandler, DetectionCounter]:
    index = SyslogIndex(
        [
            ("ddi-tokyo", ["10.1.0.11", GUID]),
            ("ddi-osaka", ["10.2.0.11"]),
        ]
    )
    counter = DetectionCounter()
    return MessageHandler(index, counter), counter


def counted(line: bytes, sender: str = "192.0.2.200") -> str:
    """The appliance the line was counted for (the relay's address is no sensor's)."""
    h, counter = handler()
    h.handle(line, sender, NOW)
    stats = counter.stats()
    assert stats.counted == 1, (stats, line)
    (count,) = counter.drain()
    assert count.minute == EVENT_MINUTE  # the sensor's own event time was read
    return count.appliance


@pytest.mark.parametrize(
    "line",
    [
        # rsyslog, RSYSLOG_SyslogProtocol23Format: APP-NAME "CEF", MSG "0|..."
        f"<134>1 2024-03-09T17:05:21.123+09:00 relay01 CEF - - - {CEF_BODY}",
        # the same with structured data and a BOM before the message
        f'<134>1 2024-03-09T08:05:21Z relay01 CEF - - [origin ip="10.1.0.11"] \ufeff{CEF_BODY}',
        # syslog-ng syslog(): APP-NAME "CEF", and the colon kept by some templates
        f"<134>1 2024-03-09T08:05:21Z relay01 CEF: - - - {CEF_BODY}",
        # rsyslog, RSYSLOG_ForwardFormat: RFC 3339 time, tag "CEF:", a space before the message
        f"<134>2024-03-09T17:05:21.123456+09:00 relay01 CEF: {CEF_BODY}",
        # syslog-ng legacy network(): "PROGRAM: MSG"
        f"<134>Mar  9 17:05:21 relay01 CEF: {CEF_BODY}",
        # no relay at all: the sensor's own line
        f"<134>Mar  9 17:05:21 localhost CEF:{CEF_BODY}",
        # a relay that wrapped the received line in a header of its own
        f"<134>1 2024-03-09T08:05:22Z relay01 rsyslogd - - - <134>Mar  9 17:05:21 x CEF:{CEF_BODY}",
    ],
)
def test_cef_relayed_with_its_prefix_taken_as_tag_or_app_name(line: str) -> None:
    assert counted(line.encode()) == "ddi-tokyo"


@pytest.mark.parametrize(
    "line",
    [
        f"<134>1 2024-03-09T08:05:21Z relay01 LEEF - - - {LEEF_HEAD}{LEEF_EXT}",
        f"<134>Mar  9 17:05:21 relay01 LEEF: {LEEF_HEAD}{LEEF_EXT}",
        f"<134>2024-03-09T17:05:21+09:00 relay01 LEEF: {LEEF_HEAD}{LEEF_EXT}",
    ],
)
def test_leef_relayed_with_its_prefix_taken_as_tag_or_app_name(line: str) -> None:
    assert counted(line.encode()) == "ddi-osaka"


@pytest.mark.parametrize(
    "escaped_tab",
    ["#011", "\\011", "\\t", "\\x09", "<009>"],
)
def test_leef_1_whose_tabs_a_relay_escaped(escaped_tab: str) -> None:
    line = f"<134>Mar  9 17:05:21 relay01 LEEF:{LEEF_HEAD}{LEEF_EXT.replace(chr(9), escaped_tab)}"
    assert counted(line.encode()) == "ddi-osaka"
    e = parse_event(f"LEEF:{LEEF_HEAD}{LEEF_EXT.replace(chr(9), escaped_tab)}".encode())
    assert isinstance(e, DetectionEvent)
    assert (e.severity, e.dvc, e.threat_type) == (6, "10.2.0.11", "4")


@pytest.mark.parametrize(
    ("field", "separator"),
    [
        ("^", "^"),
        ("x09", "\t"),
        ("0x09", "\t"),
        ("\\t", "\t"),
        ("\\x09", "\t"),
        ("<009>", "\t"),
        ("#011", "#011"),  # a real tab in the field and between fields, escaped by rsyslog
        ("\\011", "\\011"),
        ("x09", "#011"),  # the field spelt in hex, the separators escaped on the way
        (" ^ ", "^"),
    ],
)
def test_leef_2_delimiter_fields_and_separators_as_relays_leave_them(
    field: str, separator: str
) -> None:
    head = LEEF_HEAD.replace("1.0|", "2.0|", 1)
    body = f"LEEF:{head}{field}|{LEEF_EXT.replace(chr(9), separator)}"
    e = parse_event(body.encode())
    assert isinstance(e, DetectionEvent), e
    assert (e.severity, e.dvc, e.threat_type, e.timestamp) == (6, "10.2.0.11", "4", NOW - 39)
    assert counted(f"<134>1 2024-03-09T08:05:21Z relay01 LEEF - - - {body[5:]}".encode()) == (
        "ddi-osaka"
    )


@pytest.mark.parametrize(
    "label",
    ["ThreatType", "Threat Type", "threattype", "THREAT_TYPE", "Deep Discovery_ThreatType"],
)
def test_threat_type_label_variants(label: str) -> None:
    body = f"CEF:{CEF_BODY}".replace("cn3Label=Threat Type cn3=2", f"cn6Label={label} cn6=5")
    e = parse_event(body.encode())
    assert isinstance(e, DetectionEvent)
    assert e.threat_type == "5"


@pytest.mark.parametrize("key", ["threatType", "ThreatType", "THREATTYPE"])
def test_leef_threat_type_key_in_any_case(key: str) -> None:
    e = parse_event(f"LEEF:{LEEF_HEAD}{LEEF_EXT.replace('ThreatType', key)}".encode())
    assert isinstance(e, DetectionEvent)
    assert e.threat_type == "4"


def test_localhost_is_never_matched_and_the_next_identifier_is() -> None:
    h, counter = handler()
    body = f"CEF:{CEF_BODY}".replace(f"deviceExternalId={GUID} ", "")
    h.handle(f"<134>Mar  9 17:05:21 localhost {body}".encode(), "127.0.0.1", NOW)
    assert counter.drain()[0].appliance == "ddi-tokyo"  # by dvc, not by dvchost=localhost
    unknown = body.replace("dvc=10.1.0.11", "dvc=10.9.9.9")
    h.handle(f"<134>Mar  9 17:05:21 localhost {unknown}".encode(), "192.0.2.7", NOW)
    # the operators' label names the address, not "localhost"
    assert counter.stats().unknown_sources == {"192.0.2.7 10.9.9.9": 1}


@pytest.mark.parametrize("name", ["localhost", "LocalHost.localdomain", " localhost6 ", "-", ""])
def test_names_that_identify_no_sensor_are_refused_as_syslog_ids(name: str) -> None:
    with pytest.raises(InventoryError, match="names no sensor in particular"):
        SyslogIndex([("ddi-tokyo", ["10.1.0.11", name])])


def test_an_app_named_cef_with_a_body_that_is_not_cef_is_ignored_not_bad() -> None:
    h, counter = handler()
    h.handle(b"<134>1 2024-03-09T08:05:21Z host cef - - - service started", "10.1.0.11", NOW)
    stats = counter.stats()
    assert (stats.ignored, stats.bad, stats.counted) == (1, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        f"1 CEF:{CEF_BODY}",  # a relay's counter before the event
        f"10.1.0.11 CEF:{CEF_BODY}",  # the sensor's address before it
        f"2024-03-09T17:05:21+09:00 ddi01 CEF:{CEF_BODY}",  # a second time and host
    ],
)
def test_under_app_name_cef_a_body_that_is_not_the_rest_of_the_event_is_searched(
    body: str,
) -> None:
    assert counted(f"<134>1 2024-03-09T08:05:21Z relay01 CEF - - - {body}".encode()) == (
        "ddi-tokyo"
    )


def test_a_lone_space_is_a_leef_2_delimiter() -> None:
    head = LEEF_HEAD.replace("1.0|", "2.0|", 1)
    e = parse_event(f"LEEF:{head} |{LEEF_EXT.replace(chr(9), ' ')}".encode())
    assert isinstance(e, DetectionEvent) and e.dvc == "10.2.0.11"
