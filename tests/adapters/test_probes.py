"""The bot's own probes against real local servers on 127.0.0.1 (TLS, SSH-like, silent, closed)."""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bot.probes import (
    ConsoleReport,
    Failure,
    PinStatus,
    ProbeKind,
    ProbeReport,
    Resolver,
    ServerReport,
    Trust,
    console_answers,
    probe_all,
    probe_console,
    probe_tmsp,
    render_report,
)
from bot.probes.steps import system_resolver
from handlers.style import SLACK

pytestmark = pytest.mark.timeout(30)

SMALL = 0.3  # seconds: the timeout of the probes that are meant to time out
LONG = 5.0  # seconds: ample for anything on 127.0.0.1
SETTLE = 0.05  # seconds for a test server's side of a connection to catch up with the probe


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    pem: Path  # the certificate
    key_pem: Path

    @property
    def pin(self) -> str:
        return "sha256:" + self.cert.fingerprint(hashes.SHA256()).hex()  # lower case, no colons


class Pki:
    """Certificates made in the test, written to ``tmp_path``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.ca = self.issue("Test Root CA", ca=True)

    def issue(
        self,
        name: str,
        *,
        ca: bool = False,
        signer: Issued | None = None,
        ips: Sequence[str] = ("127.0.0.1",),
        dns: Sequence[str] = (),
        valid: tuple[int, int] = (-1, 30),  # days from now: not before, not after
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(signer.cert.subject if signer else subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + timedelta(days=valid[0]))
            .not_valid_after(now + timedelta(days=valid[1]))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            )  # fmt: skip
            builder = builder.add_extension(usage, critical=True).add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        else:
            names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
            names += [x509.IPAddress(ip_address(i)) for i in ips]
            if names:
                builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
        if signer is not None:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.key.public_key()),
                critical=False,
            )
        cert = builder.sign(signer.key if signer else key, hashes.SHA256())
        stem = name.replace(" ", "-").lower()
        pem, key_pem = self.directory / f"{stem}.pem", self.directory / f"{stem}.key"
        pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return Issued(cert, key, pem, key_pem)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


async def _drain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server's connection: wait for the client to go, then drop the connection."""
    try:
        with suppress(OSError):
            await reader.read()
    finally:
        writer.transport.abort()


@asynccontextmanager
async def serving(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]] = _drain,
    *,
    issued: Issued | None = None,
    port: int = 0,
) -> AsyncIterator[int]:
    """A server on 127.0.0.1, TLS with ``issued``'s certificate if given; yields its port."""
    context = None
    if issued is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(issued.pem, issued.key_pem)
    connections: dict[asyncio.StreamWriter, asyncio.Future[None]] = {}

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        done = connections[writer] = asyncio.get_running_loop().create_future()
        try:
            await handler(reader, writer)
        finally:
            done.set_result(None)

    server = await asyncio.start_server(tracked, "127.0.0.1", port, ssl=context)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        # The probes have gone, their connections may not know yet, and a handshake the probe
        # finished (TLS 1.3: the client is done first) may still be completing on this side.
        await asyncio.sleep(SETTLE)
        for writer in connections:
            writer.transport.abort()
        await asyncio.gather(*connections.values())
        await server.wait_closed()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port whose kernel accepts TCP connections that nobody ever reads or answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


async def ssh_like(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.6 <!channel>\r\n")
    await _drain(reader, writer)


async def no_such_name(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def resolving(table: dict[str, list[str]]) -> Resolver:
    async def resolver(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolver


# --- the console -------------------------------------------------------------------------


async def test_pinned_self_signed_certificate_matches_but_is_not_trusted(pki: Pki) -> None:
    sensor = pki.issue("ddi-osaka-1")
    async with serving(issued=sensor) as port:
        report = await probe_console(f"127.0.0.1:{port}", pin=sensor.pin, timeout=LONG)
    assert [p.kind for p in report.probes] == [ProbeKind.TCP, ProbeKind.TLS]  # an IP: no DNS
    assert all(p.ok and p.latency_ms is not None for p in report.probes)
    assert report.probes[1].detail.startswith("TLSv1.")
    cert = report.certificate
    assert cert is not None
    assert cert.pin == PinStatus.MATCHES and report.ok
    assert cert.subject == "CN=ddi-osaka-1" and cert.issuer == "CN=ddi-osaka-1"
    assert cert.sha256 == sensor.cert.fingerprint(hashes.SHA256()).hex(":").upper()
    assert not cert.expired and cert.days_left in (29, 30)
    assert cert.names == ("127.0.0.1",)
    assert cert.verification is not None
    assert cert.verification.trust == Trust.UNTRUSTED
    assert cert.verification.ca_file is None
    assert "self" in cert.verification.detail and "signed" in cert.verification.detail


async def test_a_wrong_pin_is_a_mismatch(pki: Pki) -> None:
    sensor, impostor = pki.issue("ddi-osaka-1"), pki.issue("impostor")
    async with serving(issued=impostor) as port:
        report = await probe_console(f"127.0.0.1:{port}", pin=sensor.pin, timeout=LONG)
    assert report.certificate is not None
    assert report.certificate.pin == PinStatus.MISMATCH
    assert report.certificate.pinned == sensor.cert.fingerprint(hashes.SHA256()).hex(":").upper()
    assert report.pin_mismatch and not report.ok
    assert all(p.ok for p in report.probes)  # reachable all the same
    assert "🚨" in "\n".join(render_report("en", _only_console(report), SLACK))


async def test_unpinned_and_without_a_ca_file_is_not_pinned_and_not_verified(pki: Pki) -> None:
    async with serving(issued=pki.issue("ddi")) as port:
        report = await probe_console(f"127.0.0.1:{port}", timeout=LONG)
    assert report.certificate is not None
    assert report.certificate.pin == PinStatus.NOT_PINNED
    assert report.certificate.verification is not None
    assert not report.certificate.verification.verified
    assert report.ok  # nothing pinned, nothing contradicted


async def test_a_leaf_signed_by_the_ca_file_verifies(pki: Pki) -> None:
    leaf = pki.issue("ddi-leaf", signer=pki.ca)
    async with serving(issued=leaf) as port:
        report = await probe_console(f"127.0.0.1:{port}", ca_file=str(pki.ca.pem), timeout=LONG)
    assert report.certificate is not None
    assert report.certificate.issuer == "CN=Test Root CA"
    verification = report.certificate.verification
    assert verification is not None
    assert verification.trust == Trust.VERIFIED and verification.verified
    assert verification.ca_file == str(pki.ca.pem)


async def test_a_self_signed_certificate_in_the_ca_file_verifies(pki: Pki) -> None:
    sensor = pki.issue("ddi-self")
    async with serving(issued=sensor) as port:
        report = await probe_console(f"127.0.0.1:{port}", ca_file=str(sensor.pem), timeout=LONG)
    assert report.certificate is not None and report.certificate.verification is not None
    assert report.certificate.verification.trust == Trust.VERIFIED


async def test_a_trusted_certificate_for_another_name_is_a_name_mismatch(pki: Pki) -> None:
    leaf = pki.issue("ddi-named", signer=pki.ca, ips=(), dns=("ddi.example.net",))
    async with serving(issued=leaf) as port:
        report = await probe_console(f"127.0.0.1:{port}", ca_file=str(pki.ca.pem), timeout=LONG)
    assert all(p.ok for p in report.probes)  # the handshake itself does not fail for it
    assert report.certificate is not None and report.certificate.verification is not None
    assert report.certificate.verification.trust == Trust.NAME_MISMATCH
    assert report.certificate.verification.detail == "ddi.example.net"


async def test_a_console_by_name_is_resolved_then_checked_against_that_name(pki: Pki) -> None:
    leaf = pki.issue("ddi-named", signer=pki.ca, ips=(), dns=("ddi.example.net",))
    resolver = resolving({"ddi.example.net": ["127.0.0.1"]})
    async with serving(issued=leaf) as port:
        report = await probe_console(
            f"https://ddi.example.net:{port}/",
            ca_file=str(pki.ca.pem),
            timeout=LONG,
            resolver=resolver,
        )
    dns = report.probes[0]
    assert (dns.kind, dns.ok, dns.target, dns.detail) == (
        ProbeKind.DNS,
        True,
        "ddi.example.net",
        "127.0.0.1",
    )
    assert report.probes[1].target == f"127.0.0.1:{port}"
    assert report.certificate is not None and report.certificate.verification is not None
    assert report.certificate.verification.trust == Trust.VERIFIED


async def test_an_expired_certificate_is_reported_and_does_not_verify(pki: Pki) -> None:
    old = pki.issue("ddi-old", signer=pki.ca, valid=(-400, -3))
    async with serving(issued=old) as port:
        report = await probe_console(f"127.0.0.1:{port}", ca_file=str(pki.ca.pem), timeout=LONG)
    cert = report.certificate
    assert cert is not None and cert.verification is not None
    assert cert.expired and cert.days_left is not None and cert.days_left <= -3
    assert report.probes[-1].ok  # the handshake works; the certificate is the problem
    assert cert.verification.trust == Trust.UNTRUSTED
    assert "expired" in cert.verification.detail


async def test_an_unreadable_ca_file_leaves_trust_unknown(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.pem"
    async with serving(issued=pki.issue("ddi")) as port:
        report = await probe_console(f"127.0.0.1:{port}", ca_file=str(missing), timeout=LONG)
    assert report.certificate is not None and report.certificate.verification is not None
    assert report.certificate.verification.trust == Trust.UNKNOWN
    assert "cannot load the CA file" in report.certificate.verification.detail


async def test_a_closed_port_is_refused(closed_port: int) -> None:
    report = await probe_console(f"127.0.0.1:{closed_port}", timeout=LONG)
    assert len(report.probes) == 1 and report.certificate is None
    tcp = report.probes[0]
    assert (tcp.kind, tcp.ok, tcp.failure) == (ProbeKind.TCP, False, Failure.REFUSED)
    assert tcp.detail == "Connection refused" and tcp.target == f"127.0.0.1:{closed_port}"
    assert not report.ok


async def test_an_unresolvable_name_fails_at_dns() -> None:
    report = await probe_console("ddi.nowhere.test", timeout=LONG, resolver=no_such_name)
    assert len(report.probes) == 1
    dns = report.probes[0]
    assert (dns.kind, dns.failure, dns.target) == (
        ProbeKind.DNS,
        Failure.DNS_FAILED,
        "ddi.nowhere.test",
    )
    assert dns.detail == "Name or service not known"


async def test_a_resolver_that_never_answers_times_out() -> None:
    async def stuck(host: str, port: int) -> list[str]:
        await asyncio.sleep(3600)
        return []

    report = await probe_console("ddi.example.net", timeout=SMALL, resolver=stuck)
    assert report.probes[0].failure == Failure.TIMEOUT


async def test_a_real_invalid_name_fails_when_the_resolver_answers_fast() -> None:
    done = threading.Event()

    def lookup() -> None:
        with suppress(OSError):
            socket.getaddrinfo("nonexistent.invalid", 443)
        done.set()

    threading.Thread(target=lookup, daemon=True).start()
    if not done.wait(1.0):
        pytest.skip("the system resolver does not answer quickly here")
    report = await probe_console("nonexistent.invalid", timeout=2.0, resolver=system_resolver)
    assert report.probes[0].kind == ProbeKind.DNS
    assert report.probes[0].failure in (Failure.DNS_FAILED, Failure.TIMEOUT)


async def test_a_server_that_accepts_and_never_answers_times_out_in_the_handshake(
    silent_port: int,
) -> None:
    report = await probe_console(f"127.0.0.1:{silent_port}", timeout=SMALL)
    tcp, tls = report.probes
    assert tcp.ok
    assert (tls.kind, tls.ok, tls.failure) == (ProbeKind.TLS, False, Failure.TIMEOUT)
    assert tls.detail == "no answer within 0.3 s"
    assert report.certificate is None


async def test_a_plain_tcp_service_on_the_console_port_fails_the_handshake() -> None:
    async with serving(ssh_like) as port:
        report = await probe_console(f"127.0.0.1:{port}", timeout=LONG)
    tls = report.probes[-1]
    assert (tls.kind, tls.failure) == (ProbeKind.TLS, Failure.TLS_FAILED)
    assert tls.detail  # OpenSSL's exact reason, e.g. "wrong version number"


async def test_console_answers_false_then_true_when_the_server_starts(
    pki: Pki, closed_port: int
) -> None:
    console = f"127.0.0.1:{closed_port}"
    assert await console_answers(console, timeout=LONG) is False
    async with serving(issued=pki.issue("ddi"), port=closed_port):
        assert await console_answers(console, timeout=LONG) is True


async def test_console_answers_false_when_the_handshake_never_comes(silent_port: int) -> None:
    assert await console_answers(f"127.0.0.1:{silent_port}", timeout=SMALL) is False


async def test_console_answers_false_for_an_unresolvable_name() -> None:
    assert await console_answers("ddi.nowhere.test", timeout=LONG, resolver=no_such_name) is False


# --- the TMSP servers --------------------------------------------------------------------


async def test_a_plain_port_reads_the_ssh_banner_instead_of_tls() -> None:
    async with serving(ssh_like) as port:
        (server,) = await probe_tmsp(
            [f"127.0.0.1:{port}"], timeout=LONG, plain_ports=frozenset({port})
        )
    assert [p.kind for p in server.probes] == [ProbeKind.TCP, ProbeKind.BANNER]
    assert server.ok and server.probes[1].detail == "SSH-2.0-OpenSSH_9.6 <!channel>"
    text = "\n".join(render_report("en", _only_tmsp(server), SLACK))
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text


async def test_a_plain_port_without_a_banner_is_reachable_with_a_warning(
    silent_port: int,
) -> None:
    (server,) = await probe_tmsp(
        [f"127.0.0.1:{silent_port}"], timeout=SMALL, plain_ports=frozenset({silent_port})
    )
    banner = server.probes[-1]
    assert (banner.kind, banner.ok, banner.failure) == (ProbeKind.BANNER, False, Failure.TIMEOUT)
    assert server.ok
    assert render_report("en", _only_tmsp(server), SLACK)[-1].startswith("⚠️")


async def test_tmsp_tls_verifies_against_the_system_store_and_an_extra_ca(pki: Pki) -> None:
    leaf = pki.issue("tmsp-log", signer=pki.ca)
    async with serving(issued=leaf) as port:
        target = f"127.0.0.1:{port}"
        (untrusted,) = await probe_tmsp([target], timeout=LONG)
        (trusted,) = await probe_tmsp([target], timeout=LONG, ca_file=str(pki.ca.pem))
    tls = untrusted.probes[-1]
    assert (tls.kind, tls.failure) == (ProbeKind.TLS, Failure.TLS_FAILED)
    assert tls.detail.startswith("certificate verify failed")
    assert trusted.ok and trusted.probes[-1].detail.startswith("TLSv1.")


async def test_probe_all_runs_the_console_and_every_server(
    pki: Pki, closed_port: int, silent_port: int
) -> None:
    sensor = pki.issue("ddi")
    async with serving(issued=sensor) as console_port, serving(ssh_like) as ssh_port:
        report = await probe_all(
            f"127.0.0.1:{console_port}",
            [f"127.0.0.1:{ssh_port}", f"127.0.0.1:{closed_port}", f"127.0.0.1:{silent_port}"],
            pin=sensor.pin,
            timeout=SMALL * 3,
            plain_ports=frozenset({ssh_port}),
        )
    assert report.console is not None and report.console.ok
    ssh, closed, silent = report.tmsp
    assert ssh.ok and ssh.target == f"127.0.0.1:{ssh_port}"
    assert closed.probes[-1].failure == Failure.REFUSED
    assert silent.probes[-1].failure == Failure.TIMEOUT
    assert not report.ok
    for lang in ("en", "ja"):
        lines = render_report(lang, report, SLACK)
        assert len(lines) == 11  # title, console + 5 certificate lines, TMSP title, 3 servers


async def test_probe_all_without_a_console_probes_the_servers_only(closed_port: int) -> None:
    report = await probe_all(None, [f"127.0.0.1:{closed_port}"], timeout=LONG)
    assert report.console is None and len(report.tmsp) == 1


def test_bad_input_is_refused_before_any_probing() -> None:
    with pytest.raises(ValueError, match="port is required"):
        asyncio.run(probe_all("127.0.0.1", ["tmsp.example.net"]))
    with pytest.raises(ValueError, match="hex digits"):
        asyncio.run(probe_all("127.0.0.1", [], pin="sha256:abcd"))


def _only_console(report: ConsoleReport) -> ProbeReport:
    return ProbeReport(report, ())


def _only_tmsp(server: ServerReport) -> ProbeReport:
    return ProbeReport(None, (server,))
