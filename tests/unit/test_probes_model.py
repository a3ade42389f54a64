"""Probe values, certificate reading and rendering: pure, no network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from ipaddress import ip_address

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.i18n import MESSAGES
from bot.presenter import TERMINAL
from bot.probes import (
    CertInfo,
    ConsoleReport,
    Endpoint,
    Failure,
    PinStatus,
    ProbeKind,
    ProbeReport,
    ProbeResult,
    ServerReport,
    Trust,
    Verification,
    normalise_fingerprint,
    parse_endpoint,
    render_report,
)
from bot.probes.cert import certificate_info, certificate_names, names_match
from bot.texts.probes import TEXTS as PROBE_TEXTS
from handlers.style import SLACK

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
FP = ":".join(["5F", "0A"] + ["AB"] * 30)

# --- endpoints ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("192.0.2.10:443", "192.0.2.10", 443),
        ("192.0.2.10", "192.0.2.10", 443),
        (" ddi-tokyo-1.example.net ", "ddi-tokyo-1.example.net", 443),
        ("ddi.example.net:8443", "ddi.example.net", 8443),
        ("ddi.example.net.", "ddi.example.net", 443),
        ("[2001:db8::1]:8443", "2001:db8::1", 8443),
        ("[2001:db8::1]", "2001:db8::1", 443),
        ("2001:db8::1", "2001:db8::1", 443),
        ("2001:DB8:0::1", "2001:db8::1", 443),
        ("https://192.0.2.10", "192.0.2.10", 443),
        ("HTTPS://ddi.example.net:4443/", "ddi.example.net", 4443),
        ("https://[2001:db8::1]:8443", "2001:db8::1", 8443),
        ("sensor", "sensor", 443),
        ("bücher.example", "bücher.example", 443),
    ],
)
def test_endpoints_parse(text: str, host: str, port: int) -> None:
    assert parse_endpoint(text) == Endpoint(host, port)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty address"),
        ("   ", "empty address"),
        ("ddi:0", "from 1 to 65535"),
        ("ddi:65536", "from 1 to 65535"),
        ("ddi:https", "from 1 to 65535"),
        ("ddi:-1", "from 1 to 65535"),
        ("ddi:", "from 1 to 65535"),
        ("ddi:४४३", "from 1 to 65535"),  # Devanagari digits are digits, not a port
        ("[2001:db8::1]:x", "from 1 to 65535"),
        ("2001:db8::1:443:x", "need"),
        ("[2001:db8::1", "missing ']'"),
        ("[192.0.2.1]:443", "not an IPv6 address"),
        ("[2001:db8::1]443", "expected ':port'"),
        ("http://192.0.2.10", "unsupported scheme"),
        ("https://ddi/login", "without a path"),
        ("ddi example", "not an address"),
        ("user@ddi", "not an address"),
        (":443", "host is missing"),
        ("-ddi.example", "not a valid host name"),
        ("ddi..example", "not a valid host name"),
        ("a" * 64 + ".example", "not a valid host name"),
        ("999.1.1.1", "not a valid IPv4 address"),
    ],
)
def test_bad_endpoints_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_endpoint(text)


def test_a_required_port_is_required() -> None:
    with pytest.raises(ValueError, match="a port is required"):
        parse_endpoint("log.tmsp.example.net", default_port=None)
    assert parse_endpoint("log.tmsp.example.net:22", default_port=None).port == 22


def test_endpoints_print_ready_to_parse_again() -> None:
    for text in ("192.0.2.10:443", "[2001:db8::1]:8443", "ddi.example.net:4443"):
        endpoint = parse_endpoint(text)
        assert str(endpoint) == text and parse_endpoint(str(endpoint)) == endpoint
    assert parse_endpoint("2001:db8::1").is_ip and not parse_endpoint("ddi").is_ip


# --- fingerprints ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        FP,
        FP.lower(),
        "sha256:" + FP,
        "SHA256:" + FP.replace(":", ""),
        "sha-256:" + FP.lower(),
        "sha256 Fingerprint=" + FP,  # as `openssl x509 -fingerprint -sha256` prints it
        "  " + FP.replace(":", " ") + "  ",
    ],
)
def test_fingerprints_normalise(text: str) -> None:
    assert normalise_fingerprint(text) == FP


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "0 hex digits"),
        ("sha256:", "0 hex digits"),
        ("sha256:5F:0A", "4 hex digits"),
        (FP + ":00", "66 hex digits"),
        (FP[:-1] + "G", "not hexadecimal"),
        ("sha1:" + FP, "not hexadecimal"),
        ("md5:" + FP, "not hexadecimal"),
    ],
)
def test_bad_fingerprints_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        normalise_fingerprint(text)


# --- certificates ------------------------------------------------------------------------


def _certificate(
    subject: str = "ddi-osaka-1",
    *,
    ips: tuple[str, ...] = ("192.0.2.10",),
    dns: tuple[str, ...] = (),
    days: int = 100,
) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW - timedelta(days=10))
        .not_valid_after(NOW + timedelta(days=days))
    )
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ip_address(i)) for i in ips]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.DER)


def test_a_certificate_is_read_and_compared_with_the_pin() -> None:
    der = _certificate(dns=("ddi.example.net",))
    fingerprint = x509.load_der_x509_certificate(der).fingerprint(hashes.SHA256())
    seen = fingerprint.hex(":").upper()
    info = certificate_info(der, pinned=None, now=NOW)
    assert (info.subject, info.issuer) == ("CN=ddi-osaka-1", "CN=ddi-osaka-1")
    assert info.sha256 == seen and info.pin == PinStatus.NOT_PINNED
    assert info.days_left == 100 and not info.expired and not info.not_yet_valid
    assert info.names == ("ddi.example.net", "192.0.2.10")
    assert certificate_info(der, pinned=seen, now=NOW).pin == PinStatus.MATCHES
    assert certificate_info(der, pinned=FP, now=NOW).pin == PinStatus.MISMATCH


def test_expiry_and_not_yet_valid() -> None:
    der = _certificate(days=5)
    expired = certificate_info(der, pinned=None, now=NOW + timedelta(days=7))
    assert expired.expired and expired.days_left == -2
    early = certificate_info(der, pinned=None, now=NOW - timedelta(days=11))
    assert early.not_yet_valid and not early.expired


def test_an_unreadable_certificate_still_has_a_fingerprint_and_a_pin_decision() -> None:
    info = certificate_info(b"not a certificate", pinned=FP, now=NOW)
    assert info.error and info.pin == PinStatus.MISMATCH and len(info.sha256) == 95
    assert certificate_names(b"not a certificate") == () and certificate_names(None) == ()


@pytest.mark.parametrize(
    ("host", "names", "matches"),
    [
        ("192.0.2.10", ("192.0.2.10",), True),
        ("192.0.2.10", ("192.0.2.11", "192.0.2.10.example"), False),
        ("2001:db8::1", ("2001:DB8:0:0:0:0:0:1",), True),
        ("DDI.Example.NET", ("ddi.example.net",), True),
        ("ddi.example.net.", ("ddi.example.net",), True),
        ("ddi.example.net", ("*.example.net",), True),
        ("a.b.example.net", ("*.example.net",), False),
        ("example.net", ("*.example.net",), False),
        ("ddi.net", ("*.net",), False),
        ("192.0.2.10", ("*.0.2.10",), False),
        ("ddi.example.net", (), False),
    ],
)
def test_names_match_like_a_browser(host: str, names: tuple[str, ...], matches: bool) -> None:
    assert names_match(host, names) is matches


# --- rendering ---------------------------------------------------------------------------

HOSTILE = "CN=<!channel> & <https://evil.example|click>"


def _cert(**changes: object) -> CertInfo:
    values: dict[str, object] = {
        "subject": "CN=ddi-osaka-1",
        "issuer": "CN=Example CA",
        "not_before": NOW - timedelta(days=10),
        "not_after": NOW + timedelta(days=200),
        "expired": False,
        "not_yet_valid": False,
        "days_left": 200,
        "sha256": FP,
        "names": ("192.0.2.10",),
        "pin": PinStatus.MATCHES,
        "pinned": FP,
        "verification": Verification(Trust.VERIFIED, "/etc/ddi-bot/ca.pem"),
    }
    values.update(changes)
    return CertInfo(**values)  # type: ignore[arg-type]


def _report(cert: CertInfo | None = None, *servers: ServerReport) -> ProbeReport:
    probes = (
        ProbeResult.passed(ProbeKind.TCP, "192.0.2.10:443", 2.4),
        ProbeResult.passed(ProbeKind.TLS, "192.0.2.10:443", 0.4, "TLSv1.3"),
    )
    return ProbeReport(ConsoleReport("192.0.2.10:443", probes, cert or _cert()), servers)


def test_a_healthy_report_in_english() -> None:
    log = ServerReport(
        "log.tmsp.example.net:443",
        (
            ProbeResult.passed(ProbeKind.DNS, "log.tmsp.example.net", 12.2, "198.51.100.7"),
            ProbeResult.passed(ProbeKind.TCP, "198.51.100.7:443", 20),
            ProbeResult.passed(ProbeKind.TLS, "log.tmsp.example.net:443", 80.6, "TLSv1.2"),
        ),
    )
    assert render_report("en", _report(None, log), SLACK) == [
        "*Network checks from the bot*",
        "✅ Console `192.0.2.10:443` — TCP 2 ms · TLS <1 ms (TLSv1.3)",
        "Certificate `CN=ddi-osaka-1`, issued by `CN=Example CA`",
        "📅 Valid until 2026-11-17 (200 days left)",
        f"SHA-256 `{FP}`",
        "✅ Matches the fingerprint pinned in the inventory",
        "✅ Trusted (CA file `/etc/ddi-bot/ca.pem`)",
        "TMSP servers:",
        "✅ `log.tmsp.example.net:443` — DNS 12 ms (198.51.100.7) · TCP 20 ms · TLS 81 ms "
        "(TLSv1.2)",
    ]


def test_a_mismatching_pin_comes_first_and_loud() -> None:
    lines = render_report("en", _report(_cert(pin=PinStatus.MISMATCH)), SLACK)
    assert lines[2].startswith("🚨 *The certificate does NOT match")
    assert f"Pinned `{FP}`" in lines[2]
    ja = render_report("ja", _report(_cert(pin=PinStatus.MISMATCH)), SLACK)
    assert ja[2].startswith("🚨 *証明書が") and FP in ja[2]


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_outside_text_is_escaped_flattened_and_cut(lang: str) -> None:
    cert = _cert(
        subject=HOSTILE,
        issuer="CN=`code` break\nsecond line",
        pin=PinStatus.NOT_PINNED,
        verification=Verification(Trust.UNTRUSTED, None, "x" * 500),
    )
    banner = ServerReport(
        "[2001:db8::1]:22",
        (
            ProbeResult.passed(ProbeKind.TCP, "[2001:db8::1]:22", 1),
            ProbeResult.passed(ProbeKind.BANNER, "[2001:db8::1]:22", 3, "SSH-2.0-<@U123>"),
        ),
    )
    text = "\n".join(render_report(lang, _report(cert, banner), SLACK))
    for raw in ("<!channel>", "<https:", "<@U123>", "`code`", "x" * 201):
        assert raw not in text
    assert "&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;" in text
    assert "'code' break second line" in text
    assert "x" * 199 + "…" in text
    assert "&lt;@U123&gt;" in text
    assert all(len(line) < 400 for line in text.splitlines())


def test_the_terminal_style_does_not_escape() -> None:
    lines = render_report("en", _report(_cert(subject=HOSTILE, issuer=HOSTILE)), TERMINAL)
    assert f"Certificate `{HOSTILE}` (self-signed)" in lines


def test_failures_show_the_exact_reason_in_english_and_japanese() -> None:
    refused = ServerReport(
        "status.tmsp.example.net:443",
        (
            ProbeResult.passed(ProbeKind.DNS, "status.tmsp.example.net", 3, "198.51.100.8"),
            ProbeResult.failed(
                ProbeKind.TCP, "198.51.100.8:443", Failure.REFUSED, "Connection refused"
            ),
        ),
    )
    unresolved = ServerReport(
        "nowhere.example:443",
        (
            ProbeResult.failed(
                ProbeKind.DNS, "nowhere.example", Failure.DNS_FAILED, "Name or service not known"
            ),
        ),
    )
    console = ConsoleReport(
        "192.0.2.10:443",
        (
            ProbeResult.passed(ProbeKind.TCP, "192.0.2.10:443", 2),
            ProbeResult.failed(
                ProbeKind.TLS, "192.0.2.10:443", Failure.TIMEOUT, "no answer within 3 s"
            ),
        ),
        None,
    )
    report = ProbeReport(console, (refused, unresolved))
    assert render_report("en", report, SLACK)[1:] == [
        "❌ Console `192.0.2.10:443` — TCP 2 ms · TLS: timed out (`no answer within 3 s`)",
        "TMSP servers:",
        "❌ `status.tmsp.example.net:443` — DNS 3 ms (198.51.100.8) · TCP: connection refused "
        "(`Connection refused`)",
        "❌ `nowhere.example:443` — DNS: name not resolved (`Name or service not known`)",
    ]
    assert render_report("ja", report, SLACK)[1:] == [
        "❌ 管理コンソール `192.0.2.10:443` — TCP 2 ms · TLS: タイムアウト"
        "（`no answer within 3 s`）",
        "TMSP サーバー:",
        "❌ `status.tmsp.example.net:443` — DNS 3 ms (198.51.100.8) · TCP: 接続拒否"
        "（`Connection refused`）",
        "❌ `nowhere.example:443` — DNS: 名前解決に失敗（`Name or service not known`）",
    ]
    assert not report.ok


@pytest.mark.parametrize(
    ("changes", "en"),
    [
        (
            {"expired": True, "days_left": -3, "not_after": NOW - timedelta(days=3)},
            "❌ *Expired* on 2026-04-28 (3 days ago)",
        ),
        ({"days_left": 12, "not_after": NOW + timedelta(days=12)}, "⚠️ Valid until 2026-05-13"),
        ({"not_yet_valid": True}, "⚠️ Not valid before 2026-04-21"),
        ({"pin": PinStatus.NOT_PINNED}, "ℹ️ No fingerprint pinned in the inventory"),
        (
            {"verification": Verification(Trust.NAME_MISMATCH, None, "ddi.example.net")},
            "⚠️ Trusted (system trust store), but not issued for `192.0.2.10:443`; "
            "it names `ddi.example.net`",
        ),
        (
            {
                "pin": PinStatus.NOT_PINNED,
                "verification": Verification(Trust.UNTRUSTED, None, "self-signed certificate"),
            },
            "⚠️ Not trusted (system trust store): `self-signed certificate`",
        ),
        (  # pinned and matching: the untrusted chain is only a note
            {"verification": Verification(Trust.UNTRUSTED, None, "self-signed certificate")},
            "ℹ️ Not trusted (system trust store): `self-signed certificate`",
        ),
        (
            {"verification": Verification(Trust.UNKNOWN, "/x.pem", "cannot load the CA file")},
            "ℹ️ Trust could not be checked (CA file `/x.pem`): `cannot load the CA file`",
        ),
        (
            {"error": "unreadable certificate: bad DER", "not_after": None, "days_left": None},
            "⚠️ The certificate could not be read: `unreadable certificate: bad DER`",
        ),
    ],
)
def test_certificate_lines(changes: dict[str, object], en: str) -> None:
    lines = render_report("en", _report(_cert(**changes)), SLACK)
    assert any(line.startswith(en) for line in lines), lines
    assert len(render_report("ja", _report(_cert(**changes)), SLACK)) == len(lines)


def test_no_console_and_no_servers_are_said_so() -> None:
    assert render_report("ja", ProbeReport(None, ()), SLACK) == [
        "*ボットからのネットワークチェック*",
        "ℹ️ インベントリに管理コンソールのアドレスがないため、確認していません。",
        "ℹ️ インベントリにこのセンサーの TMSP サーバーがないため、確認していません。",
    ]


def test_every_probe_kind_and_failure_has_a_text() -> None:
    keys = set(MESSAGES)
    assert {f"probe.kind.{k.value}" for k in ProbeKind} <= keys
    assert {f"probe.failure.{f.value}" for f in Failure} <= keys
    assert all(key.startswith("probe.") for key in PROBE_TEXTS)
