"""Typed errors. Every error carries a stable ``code`` and says what was wrong and where."""

from __future__ import annotations


class GroupopsError(Exception):
    """Base of all groupops errors. ``code`` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class InvalidEvent(GroupopsError):
    code = "invalid_event"


class InvalidAction(GroupopsError):
    code = "invalid_action"


class InvalidSettings(GroupopsError):
    code = "invalid_settings"


class TemplateError(GroupopsError):
    code = "template_error"


class NotFound(GroupopsError):
    code = "not_found"


class Conflict(GroupopsError):
    code = "conflict"


class DatabaseUnavailable(GroupopsError):
    """The database URL is malformed, names an unknown kind of database, or cannot be opened
    (no such file, server not answering, wrong password)."""

    code = "database_unavailable"


class PlatformError(GroupopsError):
    """A platform refused or failed an action.

    ``retry_after`` (seconds) is set when the platform asked us to wait (HTTP 429 and kin);
    ``permanent`` when retrying cannot help (forbidden, message too old, chat not found).
    """

    code = "platform_error"

    def __init__(
        self,
        message: str,
        *,
        where: str | None = None,
        retry_after: float | None = None,
        permanent: bool = False,
    ) -> None:
        super().__init__(message, where=where)
        self.retry_after = retry_after
        self.permanent = permanent


class RecipientUnreachable(PlatformError):
    """The platform will not carry a private message to this person (on Telegram: they never
    started the bot). The deliverer posts the message in the group instead."""

    code = "recipient_unreachable"

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, permanent=True)
