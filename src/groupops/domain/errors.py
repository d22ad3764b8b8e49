"""Typed errors. Every error carries a stable ``code`` and says what was wrong and where.

An operator reads them in English or Chinese: an error whose text is marked ``N_`` (a msgid in
the catalogues) is written as a template with its values given apart,

    raise NotFound(N_("no group {ref!r}"), where=N_("group"), ref=ref)

so that ``str(exc)`` is the English and ``exc.localized(gettext)`` the operator's language,
filled with the same values. Text that is not in the catalogues stays as written.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from groupops.i18n import N_

#: an error's place before its text; a language has its own colon (Chinese ``：``)
PLACED = N_("{where}: {text}")


class GroupopsError(Exception):
    """Base of all groupops errors. ``code`` is stable and machine-readable."""

    code = "error"
    #: the input file being read when it was raised (several may share a name), for the
    #: command to name it; set by the reader of several files (``report.pipeline``)
    export: Path | None = None

    def __init__(self, message: str, *, where: str | None = None, **params: Any) -> None:
        #: the English text, or with ``params`` its ``str.format`` template (the msgid)
        self.template = message
        self.params = params
        self.message = message.format(**params) if params else message
        self.where = where
        super().__init__(f"{where}: {self.message}" if where else self.message)

    def localized(self, gettext: Callable[[str], str]) -> str:
        """The error as ``str(exc)`` says it, in the language of ``gettext``."""
        where = self.localized_where(gettext)
        text = self.localized_message(gettext)
        if not where:
            return text
        try:
            return gettext(PLACED).format(where=where, text=text)
        except (KeyError, IndexError, ValueError):
            return f"{where}: {text}"

    def localized_message(self, gettext: Callable[[str], str]) -> str:
        """``message`` (what was wrong, without where) in the language of ``gettext``."""
        return _translated(gettext, self.template, self.params, self.message)

    def localized_where(self, gettext: Callable[[str], str]) -> str | None:
        """Where it was wrong: a word of the catalogues (``N_("group")``) translated, an
        option name or a file as it is."""
        return gettext(self.where) if self.where else self.where


def _translated(
    gettext: Callable[[str], str], template: str, params: dict[str, Any], english: str
) -> str:
    """``template`` in gettext's language, filled with ``params``; the English when the
    translation does not fit the values (a catalogue mistake must never hide the error)."""
    if not template:
        return english
    try:
        return gettext(template).format(**params) if params else gettext(template)
    except (KeyError, IndexError, ValueError, AttributeError):
        return english


class InvalidEvent(GroupopsError):
    code = "invalid_event"


class InvalidAction(GroupopsError):
    code = "invalid_action"


class InvalidSettings(GroupopsError):
    code = "invalid_settings"


class InvalidOption(GroupopsError):
    """A command's option or argument holds a value that does not fit (``demo --days 0``,
    ``leaderboard --at yesterday``, ``import --events-out`` naming a folder, a number past what
    a database holds); ``where`` names the option. Not a setting: ``invalid_settings`` is for
    the features' settings."""

    code = "invalid_option"


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
        **params: Any,
    ) -> None:
        super().__init__(message, where=where, **params)
        self.retry_after = retry_after
        self.permanent = permanent


class RecipientUnreachable(PlatformError):
    """The platform will not carry a private message to this person (on Telegram: they never
    started the bot). The deliverer posts the message in the group instead."""

    code = "recipient_unreachable"

    def __init__(self, message: str, *, where: str | None = None, **params: Any) -> None:
        super().__init__(message, where=where, permanent=True, **params)
