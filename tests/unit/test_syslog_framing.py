"""TCP de-framing (RFC 6587) and syslog headers (RFC 3164, RFC 5424)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.syslog.framing import StreamDeframer, parse_syslog

CEF = (
    "CEF:0|Trend Micro|Deep Discovery Inspector|6.7.1164|20|Malware URL requested - Type 1|6|"
    "rt=Mar 09 2024 17:05:21 GMT+09:00 dvc=10.1.0.11 dvchost=ddi-tokyo msg=不審な通信"
).encode()
LINE_3164 = b"<134>Mar 09 17:05:21 ddi-tokyo " + CEF
LINE_5424 = b"<134>1 2024-03-09T08:05:21.123Z ddi-tokyo.example ddi - 100 - " + CEF


def octet(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


def feed_all(deframer: StreamDeframer, chunks: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(deframer.feed(chunk))
    return out + deframer.close()


# --- de-framing -----------------------------------------------------------------------------


def test_lf_framed_messages() -> None:
    d = StreamDeframer()
    assert d.feed(LINE_3164 + b"\n" + LINE_5424 + b"\r\n") == [LINE_3164, LINE_5424 + b"\r"]
    assert d.buffered == 0 and d.bad == 0


def test_octet_counted_messages_including_a_trailing_lf_inside_the_count() -> None:
    d = StreamDeframer()
    stream = octet(LINE_3164) + octet(LINE_5424 + b"\n") + octet(b"<13>x y")
    assert d.feed(stream) == [LINE_3164, LINE_5424 + b"\n", b"<13>x y"]


def test_framing_is_detected_per_message() -> None:
    d = StreamDeframer()
    stream = octet(LINE_3164) + LINE_5424 + b"\n" + octet(CEF) + CEF + b"\n"
    assert d.feed(stream) == [LINE_3164, LINE_5424, CEF, CEF]


def test_every_split_point_gives_the_same_messages() -> None:
    stream = octet(LINE_3164) + LINE_5424 + b"\n\n" + octet(CEF) + b"\n" + CEF + b"\n"
    expected = [LINE_3164, LINE_5424, CEF, CEF]
    for cut in range(1, len(stream)):
        assert feed_all(StreamDeframer(), [stream[:cut], stream[cut:]]) == expected, cut
    assert feed_all(StreamDeframer(), [bytes([b]) for b in stream]) == expected


def test_empty_lines_and_stray_separators_are_not_messages() -> None:
    d = StreamDeframer()
    assert d.feed(b"\n\r\n\x00\n" + LINE_3164 + b"\n\n\n") == [LINE_3164]
    assert d.bad == 0


def test_oversize_octet_count_is_bad_and_the_stream_stays_in_step() -> None:
    d = StreamDeframer(max_message=100)
    big = b"<13>" + b"A" * 500
    assert d.feed(octet(big) + octet(b"<13>after")) == [b"<13>after"]
    assert d.bad == 1


def test_oversize_octet_frame_arriving_in_pieces_is_skipped_without_buffering() -> None:
    d = StreamDeframer(max_message=100)
    big = octet(b"<13>" + b"B" * 10_000)
    out = []
    for i in range(0, len(big), 512):
        out += d.feed(big[i : i + 512])
        assert d.buffered <= 100 + 16
    out += d.feed(b"<13>next\n")
    assert out == [b"<13>next"]
    assert d.bad == 1


def test_oversize_line_is_bad_memory_stays_bounded_and_next_line_is_read() -> None:
    d = StreamDeframer(max_message=1000)
    for _ in range(50):
        assert d.feed(b"\xff\xfe garbage without newline " * 10) == []
        assert d.buffered <= 1000 + 300
    assert d.feed(b"still garbage\n" + LINE_3164 + b"\n") == [LINE_3164]
    assert d.bad == 1


def test_oversize_line_already_complete_is_bad() -> None:
    d = StreamDeframer(max_message=100)
    assert d.feed(b"<13>" + b"C" * 200 + b"\n<13>ok\n") == [b"<13>ok"]
    assert d.bad == 1


@pytest.mark.parametrize(
    "garbage",
    [b"12x4 not a length\n", b"99999999999999999 huge\n", b"1234567890123 x\n"],
)
def test_digits_that_are_not_a_length_are_read_as_a_line(garbage: bytes) -> None:
    d = StreamDeframer()
    assert d.feed(garbage + LINE_3164 + b"\n") == [garbage.rstrip(b"\n"), LINE_3164]


def test_binary_garbage_does_not_break_the_stream() -> None:
    d = StreamDeframer(max_message=4096)
    garbage = bytes(range(256)) * 4 + b"\n"  # contains LFs, digits, NULs
    out = feed_all(d, [garbage, LINE_3164 + b"\n"])
    assert out[-1] == LINE_3164
    # Garbage without a final LF is glued to the next line: LF framing cannot tell them apart.
    d = StreamDeframer(max_message=4096)
    assert feed_all(d, [b"\x00\x01\x02", LINE_3164 + b"\n"]) == [b"\x01\x02" + LINE_3164]


def test_end_of_stream_keeps_a_last_line_without_lf_but_not_a_cut_frame() -> None:
    d = StreamDeframer()
    assert d.feed(LINE_3164) == []
    assert d.close() == [LINE_3164]
    d = StreamDeframer()
    assert d.feed(octet(LINE_3164)[:-5]) == []
    assert d.close() == []
    assert d.bad == 1


# --- headers --------------------------------------------------------------------------------


def test_rfc3164_header() -> None:
    m = parse_syslog(LINE_3164)
    assert m is not None
    assert (m.rfc, m.host, m.raw_time, m.body) == (3164, "ddi-tokyo", b"Mar 09 17:05:21", CEF)
    assert m.timestamp is None  # no zone, no year: not trusted
    assert m.local_timestamp(2024) == datetime(2024, 3, 9, 17, 5, 21)


def test_rfc3164_space_padded_day_and_no_host() -> None:
    m = parse_syslog(b"<134>Mar  9 07:05:21 " + CEF + b"\n")
    assert m is not None
    assert (m.host, m.body, m.local_timestamp(2024)) == (
        None,
        CEF,
        datetime(2024, 3, 9, 7, 5, 21),
    )


def test_rfc3164_with_an_rfc3339_time_as_rsyslog_forwards_it() -> None:
    # RSYSLOG_ForwardFormat: "<%PRI%>%TIMESTAMP:::date-rfc3339% %HOSTNAME% %syslogtag%%msg%"
    m = parse_syslog(b"<134>2024-03-09T17:05:21.123456+09:00 ddi " + CEF)
    assert m is not None
    assert (m.rfc, m.host, m.body) == (3164, "ddi", CEF)
    assert m.timestamp == datetime(2024, 3, 9, 8, 5, 21, 123456, tzinfo=UTC)
    assert m.local_timestamp(2024) is None  # it has a zone: the local reading does not apply


def test_rfc3164_with_a_timestamp_we_do_not_know_keeps_the_whole_rest_as_body() -> None:
    m = parse_syslog(b"<134>2024-03-09 17:05:21 ddi " + CEF)
    assert m is not None
    assert m.rfc == 3164 and m.body == b"2024-03-09 17:05:21 ddi " + CEF


def test_rfc5424_header_with_nil_structured_data() -> None:
    m = parse_syslog(LINE_5424)
    assert m is not None
    assert (m.rfc, m.host, m.app, m.body) == (5424, "ddi-tokyo.example", b"ddi", CEF)
    assert m.timestamp == datetime(2024, 3, 9, 8, 5, 21, 123000, tzinfo=UTC)


def test_rfc5424_structured_data_with_escapes_and_a_bom() -> None:
    sd = b'[exampleSDID@32473 iut="3" note="a \\] b \\" c \\\\"][meta x="]"]'
    m = parse_syslog(
        b"<165>1 2024-03-09T17:05:21.000001+09:00 host app 42 ID47 " + sd + b" \xef\xbb\xbf" + CEF
    )
    assert m is not None
    assert m.body == CEF
    assert m.timestamp == datetime(2024, 3, 9, 8, 5, 21, 1, tzinfo=UTC)


def test_rfc5424_nil_values_and_no_message() -> None:
    m = parse_syslog(b"<14>1 - - - - - -")
    assert m is not None
    assert (m.rfc, m.host, m.timestamp, m.body) == (5424, None, None, b"")


def test_rfc5424_long_fraction_and_bad_time() -> None:
    m = parse_syslog(b"<14>1 2024-03-09T08:05:21.123456789Z h a p m - x")
    assert m is not None and m.timestamp == datetime(2024, 3, 9, 8, 5, 21, 123456, tzinfo=UTC)
    m = parse_syslog(b"<14>1 yesterday h a p m - x")
    assert m is not None and m.timestamp is None and m.body == b"x"


def test_body_without_header() -> None:
    m = parse_syslog(CEF + b"\r\n")
    assert m is not None
    assert (m.rfc, m.host, m.body) == (0, None, CEF)


@pytest.mark.parametrize(
    "line",
    [
        b"<134",
        b"<>Mar 09 17:05:21 h x",
        b"<1344>Mar 09 17:05:21 h x",
        b"<999>Mar 09 17:05:21 h x",
        b"<13>1 2024-03-09T08:05:21Z host",
        b"<13>1 2024-03-09T08:05:21Z h a p m [unterminated sd x",
        b"<13>1 2024-03-09T08:05:21Z h a p m nosd x",
        b"<13>Mar 09 17:05:21 ",
    ],
)
def test_cut_or_broken_headers(line: bytes) -> None:
    assert parse_syslog(line) is None
