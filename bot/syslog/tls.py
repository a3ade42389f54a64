"""The server side of syslog over TLS (RFC 5425): a context from a certificate and key file.

RFC 5425 as updated by RFC 9662 asks for TLS 1.2 at least; older versions are refused. Senders
are not asked for a certificate: the allowlist (``DDI_BOT_SYSLOG_ALLOW``) says who may send.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from bot.errors import ConfigError


class _EncryptedKey(Exception):
    pass


def _encrypted() -> bytes:
    """Asked for a passphrase: the key is encrypted (never prompt on the terminal)."""
    raise _EncryptedKey


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A TLS server context; ``ConfigError`` in one line when the files cannot be used."""
    for name, path in (("DDI_BOT_SYSLOG_CERT", cert), ("DDI_BOT_SYSLOG_KEY", key)):
        if not path.is_file():
            raise ConfigError(f"{name}: {path} is not a readable file")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key, password=_encrypted)
    except _EncryptedKey:
        raise ConfigError(
            f"DDI_BOT_SYSLOG_KEY: {key} is encrypted; give the key without a passphrase "
            "(for example: openssl pkey -in KEY -out KEY.plain), readable by the bot only"
        ) from None
    except PermissionError:
        raise ConfigError(f"cannot read {cert} or {key}: permission denied") from None
    except ssl.SSLError as exc:
        raise ConfigError(
            f"DDI_BOT_SYSLOG_CERT/DDI_BOT_SYSLOG_KEY: {cert} and {key} are not a PEM certificate "
            f"and its private key ({exc.reason or exc})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {cert} or {key}: {exc.strerror or exc}") from None
    return context
