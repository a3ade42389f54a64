"""The single probes: look a name up, connect, shake hands, read a banner, check the trust.

Each has its own timeout (``seconds``) and turns every network trouble into a ``ProbeResult``
(or a ``Verification``); none raises for anything the network does. ``bot.probes.run`` chains
them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import os
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.probes.cert import certificate_names, names_match
from bot.probes.model import (
    Endpoint,
    Failure,
    ProbeKind,
    ProbeResult,
    Trust,
    Verification,
    format_fingerprint,
)

BANNER_LIMIT = 255  # RFC 4253: the SSH identification line is at most 255 characters

# Look a host name up: (host, port) -> the addresses, in the order to try them.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The operating system's resolver (``getaddrinfo`` in the loop's thread pool)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass
class Link:
    """An open connection and the address it reached."""

    address: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def close(self) -> None:
        """Abort at once: a probe owes the peer no orderly TLS shutdown, and must not wait.

        Not ``wait_closed()``: after a cancelled ``start_tls`` the stream never hears of the
        close. One turn of the loop lets the transport release the socket.
        """
        self.writer.transport.abort()
        await asyncio.sleep(0)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _timeout_text(seconds: float) -> str:
    return f"no answer within {seconds:g} s"


def address_text(address: str, port: int) -> str:
    return str(Endpoint(address, port))


def error_text(exc: BaseException) -> str:
    """The exact reason, without Python's decorations (``[Errno 111]``, ``(_ssl.c:1006)``)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", str(exc.args[1] if len(exc.args) > 1 else exc))
    if isinstance(exc, socket.gaierror):
        return exc.strerror or str(exc)
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def _connect_failure(exc: OSError) -> Failure:
    if isinstance(exc, ConnectionRefusedError):
        return Failure.REFUSED
    if isinstance(exc, TimeoutError):
        return Failure.TIMEOUT
    return Failure.UNREACHABLE


async def resolve(
    endpoint: Endpoint, seconds: float, resolver: Resolver
) -> tuple[ProbeResult | None, list[str]]:
    """(the DNS result, the addresses); an IP literal needs no lookup and gives no result."""
    if endpoint.is_ip:
        return None, [endpoint.host]
    host = endpoint.host
    start = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            addresses = list(await resolver(host, endpoint.port))
    except TimeoutError:
        return ProbeResult.failed(ProbeKind.DNS, host, Failure.TIMEOUT, _timeout_text(seconds)), []
    except (OSError, UnicodeError) as exc:  # gaierror is an OSError; IDNA trouble a UnicodeError
        return ProbeResult.failed(ProbeKind.DNS, host, Failure.DNS_FAILED, error_text(exc)), []
    if not addresses:
        return ProbeResult.failed(
            ProbeKind.DNS, host, Failure.DNS_FAILED, "no addresses for this name"
        ), []
    return ProbeResult.passed(ProbeKind.DNS, host, _ms(start), ", ".join(addresses)), addresses


async def connect(
    addresses: Sequence[str], port: int, seconds: float
) -> tuple[ProbeResult, Link | None]:
    """TCP to each address in turn until one answers, all within ``seconds``."""
    errors: list[tuple[str, OSError]] = []
    current = addresses[0]
    try:
        async with asyncio.timeout(seconds):
            for address in addresses:
                current = address
                attempt = time.perf_counter()
                try:
                    reader, writer = await asyncio.open_connection(address, port)
                except OSError as exc:
                    errors.append((address, exc))
                    continue
                target = address_text(address, port)
                result = ProbeResult.passed(ProbeKind.TCP, target, _ms(attempt))
                return result, Link(address, reader, writer)
    except TimeoutError:
        detail = _timeout_text(seconds)
        if errors:
            detail += "; " + _errors_text(errors, port)
        target = address_text(current, port)
        return ProbeResult.failed(ProbeKind.TCP, target, Failure.TIMEOUT, detail), None
    first, first_error = errors[0]
    target = address_text(first, port)
    detail = error_text(first_error) if len(errors) == 1 else _errors_text(errors, port)
    return ProbeResult.failed(ProbeKind.TCP, target, _connect_failure(first_error), detail), None


def _errors_text(errors: list[tuple[str, OSError]], port: int) -> str:
    return "; ".join(f"{address_text(a, port)}: {error_text(e)}" for a, e in errors)


async def handshake(
    link: Link, context: ssl.SSLContext, endpoint: Endpoint, seconds: float
) -> tuple[ProbeResult, bytes | None]:
    """TLS over ``link``; (the result, the peer certificate's DER if the handshake succeeded)."""
    target = str(endpoint)
    start = time.perf_counter()
    try:
        async with asyncio.timeout(seconds):
            # asyncio's own handshake timeout is a fallback: ours fires first and says so
            await link.writer.start_tls(
                context, server_hostname=endpoint.host, ssl_handshake_timeout=seconds + 1
            )
    except TimeoutError:
        return ProbeResult.failed(
            ProbeKind.TLS, target, Failure.TIMEOUT, _timeout_text(seconds)
        ), None
    except OSError as exc:  # ssl.SSLError included; a reset or a close mid-handshake too
        return ProbeResult.failed(ProbeKind.TLS, target, Failure.TLS_FAILED, error_text(exc)), None
    latency = _ms(start)
    ssl_object = link.writer.get_extra_info("ssl_object")
    der: bytes | None = None
    detail = ""
    if isinstance(ssl_object, ssl.SSLObject):
        der = ssl_object.getpeercert(binary_form=True)
        detail = ssl_object.version() or ""
    return ProbeResult.passed(ProbeKind.TLS, target, latency, detail), der


async def read_banner(link: Link, target: str, seconds: float) -> ProbeResult:
    """The first line a plain-TCP service (SSH) sends on its own, if it sends one in time."""
    data = b""
    start = time.perf_counter()
    failure: tuple[Failure, str] | None = None
    try:
        async with asyncio.timeout(seconds):
            while b"\n" not in data and len(data) < BANNER_LIMIT:
                chunk = await link.reader.read(BANNER_LIMIT - len(data))
                if not chunk:
                    break
                data += chunk
    except TimeoutError:
        failure = (Failure.TIMEOUT, f"no banner within {seconds:g} s")
    except OSError as exc:
        failure = (Failure.CLOSED, error_text(exc))
    if not data:
        failure = failure or (Failure.CLOSED, "the server closed the connection without a banner")
        return ProbeResult.failed(ProbeKind.BANNER, target, *failure)
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
    return ProbeResult.passed(ProbeKind.BANNER, target, _ms(start), printable(line))


def printable(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    return "".join(c if c.isprintable() else " " for c in text).strip()


def _stamp(ca_file: str | None) -> int:
    """The CA file's modification time: a context built from it is rebuilt once it changes
    (missing: ``OSError``, as loading it would raise)."""
    return 0 if ca_file is None else os.stat(ca_file).st_mtime_ns


# Contexts are built once and shared by every probe: loading the system trust store takes
# tens of milliseconds of the event loop, and a sweep probes hundreds of consoles.
@functools.lru_cache(maxsize=1)
def unverified_context() -> ssl.SSLContext:
    """Any certificate: the probe wants to see it, judging it is the pin's and the trust's job."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def chain_context(ca_file: str | None) -> ssl.SSLContext:
    """Verifies the chain only (names are checked apart, to tell the two failures apart).

    With ``ca_file`` that file is the whole trust: any certificate in it is an anchor, so it may
    hold the sensor's own certificate or an intermediate as well as a root.
    """
    return _chain_context(ca_file, _stamp(ca_file))


@functools.lru_cache(maxsize=64)
def _chain_context(ca_file: str | None, _stamp: int) -> ssl.SSLContext:
    if ca_file is None:
        context = ssl.create_default_context()
        context.check_hostname = False
        return context
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cafile=ca_file)
    return context


def server_context(ca_file: str | None) -> ssl.SSLContext:
    """Full verification, names included: the system trust store, plus ``ca_file`` if given."""
    return _server_context(ca_file, _stamp(ca_file))


@functools.lru_cache(maxsize=64)
def _server_context(ca_file: str | None, _stamp: int) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


async def check_trust(
    address: str, endpoint: Endpoint, *, ca_file: str | None, seen_der: bytes, seconds: float
) -> Verification:
    """A second handshake, verifying this time; then whether the certificate names the address.

    A certificate that verifies but names another host is reported, not failed: consoles are
    often reached by IP while their certificate names a host, or the other way round.
    """
    try:
        context = chain_context(ca_file)
    except (OSError, ValueError) as exc:  # missing file, not PEM (ssl.SSLError is an OSError)
        return Verification(Trust.UNKNOWN, ca_file, f"cannot load the CA file: {error_text(exc)}")
    link: Link | None = None
    try:
        async with asyncio.timeout(seconds):
            reader, writer = await asyncio.open_connection(address, endpoint.port)
            link = Link(address, reader, writer)
            await writer.start_tls(
                context, server_hostname=endpoint.host, ssl_handshake_timeout=seconds + 1
            )
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    except ssl.SSLCertVerificationError as exc:
        return Verification(Trust.UNTRUSTED, ca_file, error_text(exc))
    except TimeoutError:
        return Verification(Trust.UNKNOWN, ca_file, _timeout_text(seconds))
    except OSError as exc:
        return Verification(Trust.UNKNOWN, ca_file, error_text(exc))
    finally:
        if link is not None:
            await link.close()
    if der != seen_der:
        got = format_fingerprint(hashlib.sha256(der or b"").digest())
        return Verification(
            Trust.UNKNOWN, ca_file, f"the second connection presented another certificate ({got})"
        )
    names = certificate_names(der)
    if names_match(endpoint.host, names):
        return Verification(Trust.VERIFIED, ca_file)
    shown = ", ".join(names) if names else "no subjectAltName"
    return Verification(Trust.NAME_MISMATCH, ca_file, shown)
