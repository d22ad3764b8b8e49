"""Typed errors of the web API, and how every typed error becomes a JSON answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from groupops.domain.errors import Conflict, GroupopsError, NotFound
from groupops.platforms.sandbox import SandboxRefused


class InvalidInput(GroupopsError):
    """A request field is missing or wrong; ``field`` names it."""

    code = "invalid_input"

    def __init__(
        self, message: str, *, field: str, where: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, where=where, **params)
        self.field = field


class UnknownGroup(NotFound):
    """No sandbox group has that chat id."""

    field = "chat_id"


class UnknownLine(NotFound):
    """No line of that group has the id a request names (``field`` says which)."""

    def __init__(
        self, message: str, *, field: str, where: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, where=where, **params)
        self.field = field


class NotJoined(GroupopsError):
    """The person has not joined (no identity cookie, or not a member of that group)."""

    code = "not_joined"


class ClockNotMovable(GroupopsError):
    """The clock cannot be moved: serve runs on the real clock, or real platform connections
    run in the same process (their messages carry real times)."""

    code = "clock_not_movable"


class AddressInUse(GroupopsError):
    """The address to serve on is taken (another server runs there)."""

    code = "address_in_use"


class StartFailed(GroupopsError):
    """The server could not start (the reason was logged just before)."""

    code = "start_failed"


class TooLarge(GroupopsError):
    """The request body is over the limit."""

    code = "too_large"
    field = "body"


class Busy(GroupopsError):
    """Every connection the server takes at once is open (serve's --max-connections)."""

    code = "busy"


class CsrfFailed(GroupopsError):
    """A request that changes something without the CSRF token its cookie holds."""

    code = "csrf_failed"
    field = "x-csrftoken"


class BadHost(GroupopsError):
    """The request names a host the server does not answer under (DNS rebinding); ``field``
    is the header that named it."""

    code = "bad_host"

    def __init__(
        self, message: str, *, field: str, where: str | None = None, **params: Any
    ) -> None:
        super().__init__(message, where=where, **params)
        self.field = field


STATUS: tuple[tuple[type[GroupopsError], int], ...] = (
    (InvalidInput, 422),
    (TooLarge, 413),
    (Busy, 503),
    (CsrfFailed, 403),
    (BadHost, 400),
    (NotFound, 404),
    (NotJoined, 403),
    (SandboxRefused, 403),
    (Conflict, 409),
    (ClockNotMovable, 409),
)


def status_of(exc: GroupopsError) -> int:
    return next((status for cls, status in STATUS if isinstance(exc, cls)), 400)


def error_body(
    code: str, message: str, *, field: str | None = None, where: str | None = None
) -> dict[str, Any]:
    """The one shape of every error answer: ``{"error": {"code", "message", "field"?, ...}}``."""
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    if where is not None:
        error["where"] = where
    return {"error": error}


def body_of(exc: GroupopsError, gettext: Callable[[str], str] | None = None) -> dict[str, Any]:
    """The JSON answer of a typed error; its message in the language of ``gettext`` (the
    page's), where the error is in the catalogues."""
    message = exc.localized_message(gettext) if gettext is not None else exc.message
    return error_body(exc.code, message, field=getattr(exc, "field", None), where=exc.where)
