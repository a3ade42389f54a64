"""The receiver fed from other processes over UDP, TCP and TLS, and its sender allowlist.

UDP and TCP come from util-linux ``logger``, which frames a DDI line exactly as a relay does:
``-t CEF`` puts the prefix in the tag (RFC 3164 ``CEF: 0|...``) or the APP-NAME (RFC 5424).
TLS (RFC 5425) comes from a Python process that verifies the receiver's self-signed certificate.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.networks import AddressFilter, parse_networks
from bot.syslog import MinuteCount, SyslogIndex, SyslogReceiver
from bot.syslog.tls import server_context

# What a DDI sends after "CEF:", its host name never set (dvchost=localhost).
CEF_REST = (
    "0|Trend Micro|Deep Discovery Inspector|6.0.1208|20|Malware URL requested - Type 1|6|"
    "dvc=10.1.0.11 dvchost=localhost cn3Label=Threat Type cn3=2 app=HTTP src=172.16.1.197"
)
# It ends with a TLS close (close_notify both ways): closing the socket outright, with the
# server's TLS 1.3 session tickets still unread, makes the kernel send a reset that may discard
# the last frames before the server read them (as with any TLS server).
TLS_SENDER = """
import socket, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
    tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
    for line in sys.stdin.buffer.read().splitlines():
        tls.sendall(b"%d %s" % (len(line), line))
    tls.unwrap()
"""


class Sink:
    def __init__(self) -> None:
        self.counts: list[MinuteCount] = []

    async def __call__(self, counts: Sequence[MinuteCount]) -> None:
        self.counts.extend(counts)


def index() -> SyslogIndex:
    return SyslogIndex([("ddi-tokyo", ["10.1.0.11"]), ("ddi-osaka", ["10.2.0.11"])])


async def until(check: object, what: str) -> None:
    """Wait for ``check()`` (the deadline only avoids a hang)."""
    assert callable(check)
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def run(*argv: str, stdin: bytes = b"") -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=30)
    assert proc.returncode == 0, (argv, out, err)


@pytest.fixture
def logger() -> str:
    found = shutil.which("logger")
    if found is None:
        pytest.skip("util-linux logger is not installed")
    return found


async def test_logger_over_udp_and_tcp_with_the_prefix_as_tag_and_app_name(logger: str) -> None:
    sink = Sink()
    receiver = SyslogReceiver(index(), sink, host="127.0.0.1", udp_port=0, tcp_port=0,
                              flush_interval=3600)  # fmt: skip
    async with receiver:
        base = [logger, "-n", "127.0.0.1", "-t", "CEF"]
        await run(*base, "-P", str(receiver.udp_port), "-d", "--rfc5424", "--", CEF_REST)
        await run(*base, "-P", str(receiver.udp_port), "-d", "--rfc3164", "--", CEF_REST)
        await run(*base, "-P", str(receiver.tcp_port), "-T", "--octet-count", "--rfc5424", "--",
                  CEF_REST.replace("10.1.0.11", "10.2.0.11"))  # fmt: skip
        await until(lambda: receiver.stats().received == 3, "three messages")
    stats = receiver.stats()
    assert (stats.counted, stats.bad, stats.ignored, stats.unknown_sender) == (3, 0, 0, 0)
    by_appliance = {c.appliance: 0 for c in sink.counts}
    for c in sink.counts:
        by_appliance[c.appliance] += c.count
    assert by_appliance == {"ddi-tokyo": 2, "ddi-osaka": 1}


async def test_tls_from_another_process(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    sink = Sink()
    receiver = SyslogReceiver(index(), sink, host="127.0.0.1", udp_port=None, tcp_port=None,
                              tls_port=0, tls=server_context(cert, key),
                              flush_interval=3600)  # fmt: skip
    async with receiver:
        assert receiver.tls_port and receiver.tcp_port is None
        lines = b"\n".join(
            [
                b"<134>1 2024-03-09T08:05:21Z relay CEF - - - " + CEF_REST.encode(),
                b"<134>Mar  9 17:05:21 relay CEF: " + CEF_REST.replace("10.1.", "10.2.").encode(),
            ]
        )
        await run(sys.executable, "-c", TLS_SENDER, str(receiver.tls_port), str(cert),
                  stdin=lines)  # fmt: skip
        await until(lambda: receiver.stats().received == 2, "two messages over TLS")
        # plain text into the TLS port is no message, and the listener keeps serving
        with socket.create_connection(("127.0.0.1", receiver.tls_port)) as plain:
            plain.settimeout(5)
            plain.sendall(b"<134>Mar  9 17:05:21 relay CEF:" + CEF_REST.encode() + b"\n")
            assert await asyncio.to_thread(closed_by_peer, plain)  # after a TLS alert
        await run(sys.executable, "-c", TLS_SENDER, str(receiver.tls_port), str(cert),
                  stdin=lines.splitlines()[0])  # fmt: skip
        await until(lambda: receiver.stats().received == 3, "a third message over TLS")
    assert receiver.stats().counted == 3
    assert sorted((c.appliance, c.count) for c in sink.counts) == [
        ("ddi-osaka", 1),
        ("ddi-tokyo", 2),
    ]


async def test_a_tls_client_refuses_a_certificate_it_does_not_trust(
    self_signed: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = self_signed
    receiver = SyslogReceiver(index(), Sink(), host="127.0.0.1", udp_port=None, tcp_port=None,
                              tls_port=0, tls=server_context(cert, key))  # fmt: skip
    async with receiver:
        context = ssl.create_default_context()  # the system's CAs: the self-signed pair fails
        with socket.create_connection(("127.0.0.1", receiver.tls_port)) as raw:
            raw.settimeout(5)
            with pytest.raises(ssl.SSLCertVerificationError):
                await asyncio.to_thread(context.wrap_socket, raw, server_hostname="127.0.0.1")
    assert receiver.stats().received == 0


async def test_the_allowlist_refuses_other_senders_over_udp_and_tcp() -> None:
    sink = Sink()
    allow = AddressFilter(parse_networks("10.0.0.0/8, 192.0.2.7"))
    receiver = SyslogReceiver(index(), sink, host="127.0.0.1", udp_port=0, tcp_port=0,
                              flush_interval=3600, allow=allow)  # fmt: skip
    line = b"<134>Mar  9 17:05:21 relay CEF:" + CEF_REST.encode()
    async with receiver:
        assert receiver.udp_port and receiver.tcp_port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(line, ("127.0.0.1", receiver.udp_port))
            udp.sendto(line, ("127.0.0.1", receiver.udp_port))
        await until(lambda: receiver.stats().refused == 2, "two refused datagrams")
        with socket.create_connection(("127.0.0.1", receiver.tcp_port)) as tcp:
            tcp.settimeout(5)
            # closed at once, before anything is read
            assert await asyncio.to_thread(closed_by_peer, tcp, line + b"\n")
        await until(lambda: receiver.stats().refused == 3, "a refused connection")
    stats = receiver.stats()
    assert (stats.counted, stats.received, stats.unknown_sender) == (0, 3, 0)
    assert sink.counts == []


async def test_an_allowlist_that_includes_the_sender_lets_it_through() -> None:
    receiver = SyslogReceiver(index(), Sink(), host="127.0.0.1", udp_port=0, tcp_port=None,
                              allow=AddressFilter(parse_networks("127.0.0.0/8")))  # fmt: skip
    async with receiver:
        assert receiver.udp_port
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.sendto(b"<134>Mar  9 17:05:21 relay CEF:" + CEF_REST.encode(),
                       ("127.0.0.1", receiver.udp_port))  # fmt: skip
        await until(lambda: receiver.stats().counted == 1, "one counted detection")
    assert receiver.stats().refused == 0


def test_unusable_certificate_files_are_one_line_errors(
    self_signed: tuple[Path, Path], tmp_path: Path
) -> None:
    cert, key = self_signed
    with pytest.raises(ConfigError, match=r"DDI_BOT_SYSLOG_KEY: .*missing.pem is not a readable"):
        server_context(cert, tmp_path / "missing.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="are not a PEM certificate and its private key"):
        server_context(garbage, key)
    other_cert = tmp_path / "other"
    other_cert.mkdir()
    other = self_signed_pair(other_cert)
    with pytest.raises(ConfigError, match="are not a PEM certificate and its private key"):
        server_context(cert, other[1])  # a key that is not the certificate's
    encrypted = tmp_path / "encrypted"
    encrypted.mkdir()
    locked = self_signed_pair(encrypted, passphrase="secret")
    with pytest.raises(ConfigError, match="is encrypted; give the key without a passphrase"):
        server_context(*locked)  # never a prompt on the terminal


def closed_by_peer(sock: socket.socket, data: bytes = b"") -> bool:
    """Whether the other end closes the connection (a timeout fails the test)."""
    try:
        if data:
            sock.sendall(data)
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


def self_signed_pair(folder: Path, passphrase: str | None = None) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    secret = ["-passout", f"pass:{passphrase}"] if passphrase else ["-nodes"]
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", *secret, "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=other"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
