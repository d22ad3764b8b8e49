"""A Matrix connection's settings, and where they and the sync position are kept.

``connections.config`` holds the settings with the secrets (password, access token): they are
never logged nor put in an error message; ``repr`` hides them. ``connections.state`` holds the
sync position (``next_batch``), the DM rooms made, the private chats people opened, the rooms
being left and the mutes to lift.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from groupops.domain.errors import InvalidSettings, PlatformError
from groupops.engine.deadletters import (
    CANNOT_CONNECT,
    CONNECTION_CLOSED,
    NAME_NOT_FOUND,
    NO_ANSWER,
    TLS_FAILED,
    TLS_NOT_ACCEPTED,
)
from groupops.i18n import N_
from groupops.platforms.base import RateLimits
from groupops.platforms.connections import ConnectionStore as StoredConnection

PLATFORM = "matrix"


def network_words(exc: BaseException) -> tuple[str, dict[str, Any]]:
    """Why a request did not reach the homeserver, in words (not aiohttp's class name): one of
    engine.deadletters' NETWORK definitions and its values, or for an error of another kind
    its class and text as they are (no values)."""
    import aiohttp

    if isinstance(exc, TimeoutError):
        return NO_ANSWER, {}
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return TLS_NOT_ACCEPTED, {"host": exc.host, "reason": str(exc.certificate_error)}
    if isinstance(exc, aiohttp.ClientConnectorSSLError):
        return TLS_FAILED, {"host": exc.host, "reason": str(exc.os_error)}
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(
        getattr(exc, "os_error", None), socket.gaierror
    ):
        return NAME_NOT_FOUND, {"host": getattr(exc, "host", "")}
    if isinstance(exc, aiohttp.ClientConnectorError):
        error = exc.os_error
        reason = (os.strerror(error.errno) if error.errno else error.strerror) or str(error)
        return CANNOT_CONNECT, {"host": exc.host, "port": str(exc.port), "reason": reason}
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return CONNECTION_CLOSED, {}
    return (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__), {}


def network_reason(exc: BaseException) -> str:
    """:func:`network_words` as one text (to go in a longer one: ``sync failed: …``)."""
    template, values = network_words(exc)
    return template.format(**values) if values else template


def network_error(source: str, what: str, exc: BaseException) -> PlatformError:
    """A request of ``what`` (``send in !room:…``) that did not reach the homeserver, raised
    with its definition (:func:`network_words`) and its values apart. Its text is
    ``{source}: {what}: {reason}`` as earlier versions stored it (a homeserver's refusal says
    ``{source} {what}: …``, without the first colon)."""
    template, values = network_words(exc)
    return PlatformError(template, where=f"{source}: {what}", **values)


class _QuietValidation(logging.Filter):
    """matrix-nio warns "Error validating response: 'user_id' is a required property" for
    every error answer (a refused login, a failed sync) before groupops says what the
    homeserver answered: that line is noise, kept at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Error validating response"):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
        return True


_QUIET = _QuietValidation("groupops.matrix.quiet")


def quiet_nio_validation() -> None:
    logger = logging.getLogger("nio.responses")
    if _QUIET not in logger.filters:
        logger.addFilter(_QUIET)


WHERE = N_("matrix connection")

#: Synapse's defaults for a user without a rate-limit override (rc_message: 0.2/s, burst 10).
#: Operators who exempt the bot on their homeserver raise these in the connection's settings.
SYNAPSE_DEFAULT_LIMITS = RateLimits(per_second=0.2, per_chat_per_minute=12.0, burst=10)


#: the settings ``connect matrix`` tunes: one left out on a later connect keeps its stored
#: value (the defaults are a new connection's)
TUNING = (
    "auto_join",
    "sync_timeout_ms",
    "request_timeout",
    "per_second",
    "per_chat_per_minute",
    "burst",
    "invited_by",
    "max_private_chats",
    "max_groups",
)
#: how many private chats people may have open with the bot at a time, by default
#: (``max_private_chats``)
MAX_PRIVATE_CHATS = 1000
#: the most ``max_private_chats`` may be
PRIVATE_CHATS_CEILING = 100_000
#: how many groups the bot may be in at a time, by default (``max_groups``)
MAX_GROUPS = 1000
#: the most ``max_groups`` may be
GROUPS_CEILING = 100_000
#: one entry of ``invited_by``: a whole Matrix id, or ``@*:server`` for anyone of a server
_INVITER = re.compile(r"^@(\*|[^:\s*]+):([^\s:]+(?::[0-9]{1,5})?)$")


def checked_inviters(values: Any) -> tuple[str, ...]:
    """``invited_by`` as stored: ``@user:server`` or ``@*:server`` entries, each once."""
    if isinstance(values, str):
        values = values.split(",")
    if not isinstance(values, (list, tuple)):
        raise InvalidSettings(N_("invited_by must be a list of Matrix ids"), where="--invited-by")
    found: list[str] = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if not _INVITER.match(text):
            raise InvalidSettings(
                N_(
                    "{value!r} is not a Matrix id nor @*:server: give whole ids like"
                    " @alice:example.org, or @*:example.org for everyone of that server,"
                    " separated by commas"
                ),
                where="--invited-by",
                value=text,
            )
        if text not in found:
            found.append(text)
    return tuple(found)


def may_invite(inviters: tuple[str, ...], user_id: str) -> bool:
    """Whether ``user_id`` is one of ``inviters`` (or of a server given as ``@*:server``);
    with none given, anyone may."""
    if not inviters:
        return True
    server = user_id.split(":", 1)[1].lower() if ":" in user_id else ""
    for entry in inviters:
        if entry == user_id:
            return True
        if entry.startswith("@*:") and server and entry[3:].lower() == server:
            return True
    return False


def source_for(user_id: str) -> str:
    return f"{PLATFORM}:{user_id}"


@dataclass(frozen=True)
class MatrixConfig:
    homeserver: str
    user_id: str
    password: str = field(default="", repr=False)
    access_token: str = field(default="", repr=False)
    device_id: str = ""
    #: join the rooms the bot is invited to
    auto_join: bool = True
    #: how long one sync waits for news on the homeserver (milliseconds)
    sync_timeout_ms: int = 30_000
    #: how long one request (other than a sync's wait) may take before it counts as failed
    request_timeout: float = 60.0
    per_second: float = SYNAPSE_DEFAULT_LIMITS.per_second
    per_chat_per_minute: float = SYNAPSE_DEFAULT_LIMITS.per_chat_per_minute
    burst: int = SYNAPSE_DEFAULT_LIMITS.burst
    #: False: ``groupops connections disable`` stopped it (serve leaves it alone)
    enabled: bool = True
    #: the language and time zone a group this connection brings starts with (``connect
    #: --group-language / --group-timezone``; "" keeps what was stored, else zh_CN and
    #: Asia/Shanghai); ``settings profile`` changes a group's own afterwards
    group_language: str = ""
    group_timezone: str = ""
    #: who may invite the bot into a room (``connect --invited-by``): whole Matrix ids, or
    #: ``@*:server`` for every user of a server. An invitation from anyone else is refused
    #: (the bot leaves the invited room without joining). Empty: anyone may
    invited_by: tuple[str, ...] = ()
    #: how many private chats people opened with the bot (``is_direct`` invitations it
    #: accepted) it keeps at a time; one more is declined, and so is a second one from
    #: someone who has one already. The rooms the bot makes itself to write to a member do
    #: not count. 0: it accepts none
    max_private_chats: int = MAX_PRIVATE_CHATS
    #: how many groups (rooms that are no private chat; an upgraded group's rooms count
    #: once) the bot is in at a time; an invitation to one more is declined, whoever sends
    #: it. An upgraded group's new room is joined all the same. 0: it accepts none
    max_groups: int = MAX_GROUPS

    def __post_init__(self) -> None:
        object.__setattr__(self, "invited_by", checked_inviters(self.invited_by))
        url = urlsplit(self.homeserver)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidSettings(
                N_("homeserver must be an http(s) URL, got {homeserver!r}"),
                where=WHERE,
                homeserver=self.homeserver,
            )
        if not (self.user_id.startswith("@") and ":" in self.user_id):
            raise InvalidSettings(
                N_("user must be a full Matrix id like @bot:example.org, got {user!r}"),
                where=WHERE,
                user=self.user_id,
            )
        if not self.password and not self.access_token:
            raise InvalidSettings(N_("give a password or an access token"), where=WHERE)
        if self.per_second <= 0 or self.per_chat_per_minute <= 0 or self.burst < 1:
            raise InvalidSettings(N_("rate limits must be positive"), where=WHERE)
        if not 0 < self.request_timeout <= 600:
            raise InvalidSettings(N_("request_timeout must be 0..600 seconds"), where=WHERE)
        if not 0 <= self.sync_timeout_ms <= 300_000:
            raise InvalidSettings(N_("sync_timeout_ms must be 0..300000"), where=WHERE)
        for name, most in (
            ("max_private_chats", PRIVATE_CHATS_CEILING),
            ("max_groups", GROUPS_CEILING),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= most:
                raise InvalidSettings(
                    N_("{name} must be a whole number from 0 to {most}"),
                    where=WHERE,
                    name=name,
                    most=most,
                )
        object.__setattr__(self, "homeserver", self.homeserver.rstrip("/"))

    @property
    def source(self) -> str:
        return source_for(self.user_id)

    @property
    def limits(self) -> RateLimits:
        return RateLimits(self.per_second, self.per_chat_per_minute, self.burst)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.access_token) if s)

    def with_login(self, access_token: str, device_id: str) -> MatrixConfig:
        return replace(self, access_token=access_token, device_id=device_id)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> MatrixConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise InvalidSettings(
                N_("unknown settings {names}"), where=WHERE, names=sorted(unknown)
            )
        missing = {"homeserver", "user_id"} - set(raw)
        if missing:
            raise InvalidSettings(
                N_("missing settings {names}"), where=WHERE, names=sorted(missing)
            )
        try:
            return cls(**dict(raw))
        except TypeError as exc:  # a value of the wrong type
            raise InvalidSettings(str(exc), where=WHERE) from None


class ConnectionStore(StoredConnection[MatrixConfig]):
    """The Matrix connection's row (see
    :class:`groupops.platforms.connections.ConnectionStore`)."""

    def __init__(self, db: Engine, source: str) -> None:
        super().__init__(db, source, platform=PLATFORM, parse=MatrixConfig.from_json)


async def login(config: MatrixConfig) -> MatrixConfig:
    """Log in with the password; the answer's access token and device replace the password
    (what is stored is the token, never the password). Raises PlatformError if refused."""
    from nio import AsyncClient, AsyncClientConfig, LoginResponse

    quiet_nio_validation()
    client = AsyncClient(
        config.homeserver,
        config.user_id,
        config=AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=30),
    )
    # where it failed names the user and the homeserver: values, so they are part of the
    # message (a ``where`` is translated as one word, it cannot hold values)
    user, homeserver = config.user_id, config.homeserver
    try:
        answer = await client.login(config.password, device_name="groupops")
    except Exception as exc:  # the homeserver cannot be reached
        raise PlatformError(
            N_("matrix login of {user} on {homeserver}: cannot reach the homeserver: {error}"),
            user=user,
            homeserver=homeserver,
            error=network_reason(exc),
        ) from None
    finally:
        await client.close()
    if not isinstance(answer, LoginResponse):
        code = getattr(answer, "status_code", "") or ""
        message = str(getattr(answer, "message", "")).replace(config.password, "***")
        status = getattr(getattr(answer, "transport_response", None), "status", 0) or 0
        if not code and status:  # no Matrix error: not a homeserver (a web page, a proxy)
            message = f"HTTP {status}, not a Matrix answer (is {homeserver} the homeserver?)"
        raise PlatformError(
            N_("matrix login of {user} on {homeserver}: refused: {answer}"),
            permanent=True,
            user=user,
            homeserver=homeserver,
            answer=f"{code} {message}".strip(),
        )
    return replace(
        config, password="", access_token=answer.access_token, device_id=answer.device_id
    )


def connect(
    db: Engine,
    config: MatrixConfig,
    now: datetime,
    *,
    workspace: str | None = None,
    verify: bool = True,
    keep: Collection[str] = (),
) -> MatrixConfig:
    """``groupops connect matrix``: log in (which checks homeserver, user and password) and
    keep the connection; an existing one keeps its sync position and the stored settings
    named in ``keep``. The settings as stored."""
    import asyncio

    from groupops.platforms.connections import refuse_move

    refuse_move(db, config.source, workspace)  # before logging in: no stray device
    if verify and config.password:
        config = asyncio.run(login(config))
    store = ConnectionStore(db, config.source)
    store.ensure(config, now, workspace, keep)
    return store.load()[0]
