"""Keeping a live connection's secrets (a bot token, a password, an access token) out of the log.

The platforms' libraries put them where a log line can show them: the Bot API token is part of
every Telegram URL (httpx logs each request's URL), matrix-nio puts the access token in the
query string of every request and logs whole responses (the login answer holds the token). An
error of such a request can reach groupops' own loggers too, with its traceback: the
deliverer's ``log.exception`` for an action that failed in an unexpected way, the App's for a
batch. One :class:`SecretFilter` per connection sits on all of them, and on the root
logger's handlers (serve's console) for a logger made after it was installed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence

#: groupops' loggers that may carry a platform's error or traceback, for every connection
#: (a name here covers the loggers under it that exist when the filter is installed)
GROUPOPS_FAMILIES = ("groupops.platforms", "groupops.engine.deliverer", "groupops.engine.app")

#: a secret not known yet, by its name: the access token in a login answer (``"access_token":
#: "…"``) and in a request's query string (``?access_token=…``), a password or refresh token
_BY_NAME = (
    re.compile(r"""(['"](?:access_token|password|refresh_token)['"]\s*:\s*['"])[^'"]+"""),
    re.compile(r"""([?&]access_token=)[^&\s'"]+"""),
)
MASK = "***"


class SecretFilter(logging.Filter):
    """Masks a connection's ``secrets`` (and any access token or password by its name) in log
    records: the message, its arguments and its traceback (``exc_info``, which is then kept as
    masked text). It sits on the loggers named in ``families`` and on every logger under them
    (those that exist when :meth:`install` runs, and the usual ones named ahead), together with
    groupops' own (GROUPOPS_FAMILIES)."""

    def __init__(
        self,
        secrets: Iterable[str] = (),
        *,
        families: Sequence[str] = (),
        loggers: Sequence[str] = (),
    ) -> None:
        super().__init__("groupops.platforms.secrets")
        self.secrets = [s for s in secrets if s]
        self.families = (*families, *GROUPOPS_FAMILIES)
        self.loggers = tuple(loggers)

    def mask(self, text: str) -> str:
        for pattern in _BY_NAME:
            text = pattern.sub(rf"\1{MASK}", text)
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record: leave it to logging's own error handling
            return True
        masked = self.mask(text)
        if masked != text:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[0] is not None:
            trace = record.exc_text or logging.Formatter().formatException(record.exc_info)
            clean = self.mask(trace)
            if clean != trace:  # the traceback is printed from the masked text, never the error
                record.exc_info, record.exc_text = None, clean
        elif record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True

    def names(self) -> list[str]:
        """The loggers this filter sits on."""
        found = [
            name
            for name in logging.root.manager.loggerDict
            if any(name == f or name.startswith(f"{f}.") for f in self.families)
        ]
        return sorted({*found, *self.families, *self.loggers})

    def install(self) -> None:
        """On the loggers (see :meth:`names`) and on the root logger's handlers: a record of
        a logger made later (a library's new module) reaches those handlers without passing
        through its ancestors' filters."""
        for name in self.names():
            logger = logging.getLogger(name)
            if self not in logger.filters:
                logger.addFilter(self)
        for handler in logging.root.handlers:
            if self not in handler.filters:
                handler.addFilter(self)

    def remove(self) -> None:
        for name in self.names():
            logging.getLogger(name).removeFilter(self)
        for handler in logging.root.handlers:
            handler.removeFilter(self)
