"""What the bot's own network probes find: endpoints, one result per probe, the certificate.

Pure values, no I/O. ``parse_endpoint`` and ``normalise_fingerprint`` also serve the inventory
loader, so a bad console address or pin is refused when the bot starts, not mid-case.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

DEFAULT_CONSOLE_PORT = 443  # the DDI management console is HTTPS
FINGERPRINT_BYTES = 32  # SHA-256

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)$")
_FINGERPRINT_PREFIX = re.compile(r"^(sha-?256)(\s*fingerprint)?\s*[:=]?\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Endpoint:
    host: str  # a name or an IP literal, without brackets
    port: int

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def parse_endpoint(text: str, *, default_port: int | None = DEFAULT_CONSOLE_PORT) -> Endpoint:
    """``host``, ``host:port``, ``[v6]:port``, a bare IPv6 address or ``https://host[:port][/]``.

    ``default_port=None`` makes the port required (TMSP servers are listed as host:port).
    Raises ``ValueError`` with a message an operator can act on.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty address")
    rest = raw
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
        if scheme.lower() != "https":
            raise ValueError(
                f"unsupported scheme {scheme!r} in {raw!r}; use host, host:port or https://host:port"
            )
        if "/" in rest:
            rest, path = rest.split("/", 1)
            if path:
                raise ValueError(f"{raw!r}: give the address only, without a path")
    if any(c.isspace() for c in rest) or any(c in rest for c in "/@?#"):
        raise ValueError(f"{raw!r} is not an address (host, host:port or [IPv6]:port)")
    host, port_text = _split_host_port(rest, raw)
    if port_text is None:
        if default_port is None:
            raise ValueError(f"{raw!r}: a port is required (host:port)")
        port = default_port
    else:
        port = _port(port_text, raw)
    return Endpoint(_host(host, raw), port)


def endpoint_or_none(text: str | None) -> Endpoint | None:
    """``parse_endpoint`` for callers that only want to know the address, if there is one."""
    if not text:
        return None
    try:
        return parse_endpoint(text)
    except ValueError:
        return None


def _split_host_port(rest: str, raw: str) -> tuple[str, str | None]:
    if rest.startswith("["):
        inside, sep, after = rest[1:].partition("]")
        if not sep:
            raise ValueError(f"{raw!r}: missing ']' after the IPv6 address")
        try:
            ipaddress.IPv6Address(inside)
        except ValueError:
            raise ValueError(f"{raw!r}: {inside!r} in brackets is not an IPv6 address") from None
        if not after:
            return inside, None
        if not after.startswith(":"):
            raise ValueError(f"{raw!r}: expected ':port' after ']'")
        return inside, after[1:]
    if rest.count(":") > 1:  # a bare IPv6 address cannot carry a port
        try:
            return str(ipaddress.IPv6Address(rest)), None
        except ValueError:
            raise ValueError(
                f"{raw!r} is not an address; an IPv6 address with a port needs brackets, "
                "e.g. [2001:db8::1]:443"
            ) from None
    host, sep, port_text = rest.partition(":")
    return host, port_text if sep else None


def _port(text: str, raw: str) -> int:
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{raw!r}: the port must be a number from 1 to 65535, got {text!r}")
    return int(text)


def _host(host: str, raw: str) -> str:
    if not host:
        raise ValueError(f"{raw!r}: the host is missing")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    try:
        ascii_name = name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{raw!r}: {host!r} is not a valid host name") from None
    labels = ascii_name.split(".")
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"{raw!r}: {host!r} is not a valid host name")
    if all(label.isdigit() for label in labels):
        raise ValueError(f"{raw!r}: {host!r} is not a valid IPv4 address")
    return name


def normalise_fingerprint(text: str) -> str:
    """A SHA-256 pin in the one form the probes compare: ``"5F:0A:…"`` (32 bytes, upper case).

    Accepts ``sha256:`` (or ``SHA256 Fingerprint=`` as ``openssl x509 -fingerprint`` prints it)
    in front or not, colons, spaces or none, any case. Raises ``ValueError`` otherwise.
    """
    digits = _FINGERPRINT_PREFIX.sub("", text.strip())
    digits = re.sub(r"[\s:]", "", digits)
    if not re.fullmatch(r"[0-9A-Fa-f]*", digits):
        raise ValueError(
            f"TLS fingerprint {text!r} is not hexadecimal "
            "(expected a SHA-256 like sha256:5F:0A:...: 32 bytes, 64 hex digits)"
        )
    if len(digits) != 2 * FINGERPRINT_BYTES:
        raise ValueError(
            f"TLS fingerprint {text!r} has {len(digits)} hex digits; "
            f"a SHA-256 fingerprint has {2 * FINGERPRINT_BYTES}"
        )
    return format_fingerprint(bytes.fromhex(digits))


def format_fingerprint(digest: bytes) -> str:
    return ":".join(f"{b:02X}" for b in digest)


class ProbeKind(StrEnum):
    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    BANNER = "banner"  # the first line a plain-TCP service (SSH) sends


class Failure(StrEnum):
    DNS_FAILED = "dns_failed"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    TLS_FAILED = "tls_failed"
    CLOSED = "closed"  # the server closed the connection before saying anything


@dataclass(frozen=True)
class ProbeResult:
    kind: ProbeKind
    target: str  # what was probed: the name looked up, the address connected to
    ok: bool
    latency_ms: float | None  # how long it took; None when it did not complete
    failure: Failure | None = None
    detail: str = ""  # failed: the exact error text; ok: what was seen (addresses, TLS version)

    @classmethod
    def passed(
        cls, kind: ProbeKind, target: str, latency_ms: float, detail: str = ""
    ) -> ProbeResult:
        return cls(kind, target, True, latency_ms, None, detail)

    @classmethod
    def failed(cls, kind: ProbeKind, target: str, failure: Failure, detail: str) -> ProbeResult:
        return cls(kind, target, False, None, failure, detail)


class PinStatus(StrEnum):
    MATCHES = "matches"
    MISMATCH = "mismatch"  # possibly not the sensor at all
    NOT_PINNED = "not_pinned"


class Trust(StrEnum):
    VERIFIED = "verified"  # the chain verifies and the certificate names the address used
    NAME_MISMATCH = "name_mismatch"  # the chain verifies, but not for the address used
    UNTRUSTED = "untrusted"  # the chain does not verify (self-signed, expired, unknown CA...)
    UNKNOWN = "unknown"  # could not be checked (CA file unreadable, second connection failed)


@dataclass(frozen=True)
class Verification:
    trust: Trust
    ca_file: str | None  # what it was checked against; None: the system trust store
    detail: str = ""  # why not verified, or the names the certificate is valid for

    @property
    def verified(self) -> bool:
        return self.trust == Trust.VERIFIED


@dataclass(frozen=True)
class CertInfo:
    subject: str  # RFC 4514, e.g. "CN=ddi.example.com,O=Example"
    issuer: str
    not_before: datetime | None  # UTC; None when the certificate could not be parsed
    not_after: datetime | None
    expired: bool
    not_yet_valid: bool
    days_left: int | None  # negative once expired
    sha256: str  # "AB:CD:..." over the DER, always known
    names: tuple[str, ...]  # subjectAltName DNS names and IP addresses
    pin: PinStatus
    pinned: str | None  # the pin from the inventory, normalised
    verification: Verification | None = None  # None: not checked
    error: str | None = None  # why the certificate could not be parsed, if it could not


@dataclass(frozen=True)
class ConsoleReport:
    target: str  # the console endpoint, "host:port"
    probes: tuple[ProbeResult, ...]  # in order; probes after a failure are not run
    certificate: CertInfo | None

    @property
    def ok(self) -> bool:
        """Reachable, and the certificate is not a pin mismatch."""
        reached = bool(self.probes) and all(p.ok for p in self.probes)
        return reached and (self.certificate is None or self.certificate.pin != PinStatus.MISMATCH)

    @property
    def pin_mismatch(self) -> bool:
        return self.certificate is not None and self.certificate.pin == PinStatus.MISMATCH


@dataclass(frozen=True)
class ServerReport:
    target: str  # the TMSP server, "host:port"
    probes: tuple[ProbeResult, ...]

    @property
    def ok(self) -> bool:
        """Reachable; a missing SSH banner is worth showing but does not make it unreachable."""
        return bool(self.probes) and all(p.ok for p in self.probes if p.kind != ProbeKind.BANNER)


@dataclass(frozen=True)
class ProbeReport:
    console: ConsoleReport | None  # None: the inventory gives no console address
    tmsp: tuple[ServerReport, ...]

    @property
    def ok(self) -> bool:
        return (self.console is None or self.console.ok) and all(s.ok for s in self.tmsp)
