"""The one exception tree of ddi-bot.

Every error a user can see derives from ``DdiBotError`` and carries a message key (see
``bot.i18n``) plus the parameters to fill it, so it is rendered in one place in either language.
"""

from __future__ import annotations

from typing import Any


class DdiBotError(Exception):
    """Base of every error ddi-bot reports to a person."""

    key = "error.internal"

    def __init__(self, detail: str = "", **params: Any) -> None:
        super().__init__(detail or self.key)
        self.detail = detail
        self.params: dict[str, Any] = {"detail": detail, **params}


class ConfigError(DdiBotError):
    key = "error.config"


class InventoryError(ConfigError):
    key = "error.inventory"


class UnknownAppliance(DdiBotError):
    key = "error.unknown_appliance"


class CaseAlreadyOpen(DdiBotError):
    key = "error.case_already_open"


class NotAuthorised(DdiBotError):
    key = "error.not_authorised"


class NotOperator(DdiBotError):
    key = "error.not_operator"


class AlreadyDecided(DdiBotError):
    key = "error.already_decided"


class CaseNotFound(DdiBotError):
    key = "error.case_not_found"


class DriverError(DdiBotError):
    """A driver could not complete a step; ``code`` says why in a stable, translatable way."""

    key = "error.driver"
    code = "driver_error"


class ApplianceUnreachable(DriverError):
    key = "error.appliance_unreachable"
    code = "unreachable"


class ApplianceTimeout(DriverError):
    key = "error.appliance_timeout"
    code = "timeout"


class ApplianceTLSError(DriverError):
    key = "error.appliance_tls"
    code = "tls"


class ApplianceProtocolError(DriverError):
    key = "error.appliance_protocol"
    code = "protocol"


class CaptureError(DdiBotError):
    """A capture file could not be read (corrupt, hostile or unsupported)."""

    key = "error.capture"


class SlackPostFailed(DdiBotError):
    key = "error.slack_post_failed"


class UploadRefused(DdiBotError):
    """A file posted in a case thread cannot be used (too large, not downloadable, ...)."""

    key = "error.upload"
