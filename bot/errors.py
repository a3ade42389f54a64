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


class SelfApproval(NotAuthorised):
    """The two-person rule: the person who opened the case cannot approve its reboot."""

    key = "error.self_approval"


class AccessSlow(DdiBotError):
    """Slack did not say in time whether someone is in a role's user group."""

    key = "error.access_slow"


class NotOperator(DdiBotError):
    key = "error.not_operator"


class AlreadyDecided(DdiBotError):
    key = "error.already_decided"


class AlreadyApproved(AlreadyDecided):
    """The same approver again, while the quorum still needs others (``missing``)."""

    key = "error.already_approved"


class EvidenceChanged(AlreadyDecided):
    """An approval given on evidence the case no longer holds (now: ``digest``)."""

    key = "error.evidence_changed"


class CaseNotFound(DdiBotError):
    key = "error.case_not_found"


class AlertNotFound(DdiBotError):
    """An "Open a case" button of an alert that is not (or no longer) an appliance's."""

    key = "error.alert_not_found"


class AlertCleared(DdiBotError):
    """An "Open a case" button of an alert that has cleared since it was posted."""

    key = "error.alert_cleared"


class NoThread(DdiBotError):
    key = "error.no_thread"


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
    """The case's thread cannot be posted in the channel (the bot is not in it, say)."""

    key = "error.slack_post_failed"


class DeliveryError(Exception):
    """A message could not be delivered this time. Raised by messengers, handled by the
    outbox: ``retry`` says whether trying again can help, ``after`` how long to wait at least
    (a rate limit), ``uncertain`` that it may have been delivered anyway (a timeout)."""

    def __init__(
        self, code: str, *, retry: bool, after: float | None = None, uncertain: bool = False
    ) -> None:
        super().__init__(code)
        self.code = code
        self.retry = retry
        self.after = after
        self.uncertain = uncertain


class UploadRefused(DdiBotError):
    """A file posted in a case thread cannot be used (too large, not downloadable, ...)."""

    key = "error.upload"
