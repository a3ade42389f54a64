"""A peer certificate (DER) read with ``cryptography``: names, validity, fingerprint, pin."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime

from cryptography import x509

from bot.probes.model import CertInfo, PinStatus, format_fingerprint

DAY_SECONDS = 86400


def certificate_info(der: bytes, *, pinned: str | None, now: datetime) -> CertInfo:
    """What the certificate says; ``pinned`` is already normalised (``normalise_fingerprint``).

    The fingerprint and the pin decision come from the DER bytes, so they hold even for a
    certificate ``cryptography`` refuses to parse (then ``error`` says why).
    """
    sha256 = format_fingerprint(hashlib.sha256(der).digest())
    if pinned is None:
        pin = PinStatus.NOT_PINNED
    else:
        pin = PinStatus.MATCHES if pinned == sha256 else PinStatus.MISMATCH
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    except ValueError as exc:
        return CertInfo(
            subject="",
            issuer="",
            not_before=None,
            not_after=None,
            expired=False,
            not_yet_valid=False,
            days_left=None,
            sha256=sha256,
            names=(),
            pin=pin,
            pinned=pinned,
            error=f"unreadable certificate: {exc}",
        )
    return CertInfo(
        subject=subject,
        issuer=issuer,
        not_before=not_before,
        not_after=not_after,
        expired=now > not_after,
        not_yet_valid=now < not_before,
        days_left=int((not_after - now).total_seconds() // DAY_SECONDS),
        sha256=sha256,
        names=_names(cert),
        pin=pin,
        pinned=pinned,
    )


def certificate_names(der: bytes | None) -> tuple[str, ...]:
    """The subjectAltName entries of a DER certificate; () if it has none or cannot be read."""
    if der is None:
        return ()
    try:
        return _names(x509.load_der_x509_certificate(der))
    except ValueError:
        return ()


def _names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    dns: list[str] = san.get_values_for_type(x509.DNSName)
    ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    return (*dns, *ips)


def names_match(host: str, names: tuple[str, ...]) -> bool:
    """Whether a certificate naming ``names`` (subjectAltName) is valid for ``host``.

    IP addresses match IP entries only; names match case-insensitively, and a wildcard stands
    for exactly one left-most label (``*.example.com``), as browsers and OpenSSL do.
    """
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        for name in names:
            try:
                if ipaddress.ip_address(name) == address:
                    return True
            except ValueError:
                continue
        return False
    wanted = _ascii(host).rstrip(".").lower()
    for name in names:
        pattern = name.rstrip(".").lower()
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "*" not in pattern[1:] and "." in pattern[2:]:
            first, _, parent = wanted.partition(".")
            if first and parent and parent == pattern[2:]:
                return True
    return False


def _ascii(host: str) -> str:
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host
