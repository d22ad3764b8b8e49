"""A Telegram connection's settings, and where they and the polling position are kept.

``connections.config`` holds the settings with the secrets (the bot token, the webhook secret):
they are never logged nor put in an error message, and ``repr`` hides them.
``connections.state`` holds the getUpdates position (``offset``) and the people who started a
private chat with the bot (``started``: only they can get a direct message).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine

from groupops.domain.errors import InvalidSettings
from groupops.i18n import N_
from groupops.platforms.base import RateLimits
from groupops.platforms.connections import ConnectionStore as StoredConnection
from groupops.platforms.secrets import SecretFilter

PLATFORM = "telegram"
DEFAULT_BASE_URL = "https://api.telegram.org/bot"

#: Telegram's published limits: about 30 messages a second per bot, 20 a minute per group.
#: The deliverer's token bucket lets ``burst`` through at once and then ``per_chat_per_minute``:
#: 2 + 18 keeps any 60-second window at 20 or fewer in one group.
TELEGRAM_LIMITS = RateLimits(per_second=30.0, per_chat_per_minute=18.0, burst=2)

_TOKEN = re.compile(r"^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$")
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_USERNAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")
WHERE = N_("telegram connection")
#: the settings ``connect telegram`` tunes: one left out on a later connect keeps its stored
#: value (the defaults are a new connection's)
TUNING = (
    "poll_timeout",
    "request_timeout",
    "per_second",
    "per_chat_per_minute",
    "burst",
    "admin_cache_seconds",
    "added_by",
)
_USER_ID = re.compile(r"^[1-9][0-9]{0,19}$")
#: Telegram's limit in one group: 20 messages in any minute
GROUP_MINUTE_LIMIT = 20


def webhook_path(username: str) -> str:
    """Where serve answers the bot's webhook (``/hooks/telegram/<bot username>``)."""
    return f"/hooks/telegram/{username}"


def source_for(username: str) -> str:
    return f"{PLATFORM}:{username}"


@dataclass(frozen=True)
class TelegramConfig:
    token: str = field(repr=False)
    #: the bot's username and id, as getMe answered when connecting
    username: str = ""
    bot_id: str = ""
    #: the Bot API's address up to ``/bot`` (the token follows); a local Bot API server or a
    #: test server replace it
    base_url: str = DEFAULT_BASE_URL
    #: "polling" (getUpdates) or "webhook" (Telegram posts to ``webhook_url``)
    mode: str = "polling"
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    #: how long one getUpdates waits for news on Telegram (seconds)
    poll_timeout: int = 30
    #: how long one request (other than getUpdates' wait) may take before it counts as failed
    request_timeout: float = 30.0
    per_second: float = TELEGRAM_LIMITS.per_second
    per_chat_per_minute: float = TELEGRAM_LIMITS.per_chat_per_minute
    burst: int = TELEGRAM_LIMITS.burst
    #: how long the list of a group's administrators is trusted before it is asked again
    admin_cache_seconds: float = 600.0
    #: False: ``groupops connections disable`` stopped it (serve leaves it alone)
    enabled: bool = True
    #: the language and time zone a group this connection brings starts with (``connect
    #: --group-language / --group-timezone``; "" keeps what was stored, else zh_CN and
    #: Asia/Shanghai); ``settings profile`` changes a group's own afterwards
    group_language: str = ""
    group_timezone: str = ""
    #: the Telegram user ids that may add the bot to a group (``connect --added-by``); a group
    #: anyone else adds it to is left at once (leaveChat) and never becomes a group of the
    #: workspace. Empty: anyone may (Telegram's own default)
    added_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "added_by", checked_user_ids(self.added_by))
        if not isinstance(self.token, str) or not _TOKEN.match(self.token):
            # never echo the token: it is a secret even when malformed
            raise InvalidSettings(
                N_(
                    "the bot token does not look like one from @BotFather: the bot's number, a"
                    " colon, then 20 to 100 letters, digits, _ or - (e.g. 123456789:AAH...)"
                ),
                where=WHERE,
            )
        url = urlsplit(self.base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise InvalidSettings(
                N_("base_url must be an http(s) URL, got scheme {scheme!r}"),
                where=WHERE,
                scheme=url.scheme,
            )
        if self.username and not _USERNAME.match(self.username):
            raise InvalidSettings(
                N_("bad bot username {username!r}"), where=WHERE, username=self.username
            )
        if self.mode not in ("polling", "webhook"):
            raise InvalidSettings(
                N_("mode must be polling or webhook, got {mode!r}"), where=WHERE, mode=self.mode
            )
        if self.mode == "webhook":
            hook = urlsplit(self.webhook_url)
            if hook.scheme != "https" and hook.hostname not in ("127.0.0.1", "localhost"):
                raise InvalidSettings(N_("webhook_url must be an https URL"), where=WHERE)
            wanted = webhook_path(self.username) if self.username else ""
            if wanted and not hook.path.endswith(wanted):
                # serve answers Telegram on /hooks/telegram/<bot> only: another path gets 404
                raise InvalidSettings(
                    N_(
                        "the webhook URL must end in {path} (serve answers Telegram there), got"
                        " {url}"
                    ),
                    where="--webhook-url",
                    path=wanted,
                    url=self.webhook_url,
                )
            if not _WEBHOOK_SECRET.match(self.webhook_secret):
                raise InvalidSettings(
                    N_("webhook_secret must be 1-256 characters A-Z, a-z, 0-9, _ or -"),
                    where=WHERE,
                )
        if self.per_second <= 0 or self.per_chat_per_minute <= 0 or self.burst < 1:
            raise InvalidSettings(N_("rate limits must be positive"), where=WHERE)
        if not 0 < self.request_timeout <= 600:
            raise InvalidSettings(N_("request_timeout must be 0..600 seconds"), where=WHERE)
        if not 0 <= self.poll_timeout <= 600:
            raise InvalidSettings(N_("poll_timeout must be 0..600 seconds"), where=WHERE)
        if self.admin_cache_seconds < 0:
            raise InvalidSettings(N_("admin_cache_seconds must be 0 or more"), where=WHERE)

    @property
    def source(self) -> str:
        if not self.username:
            raise InvalidSettings(
                N_("the bot's username is not known yet (run getMe)"), where=WHERE
            )
        return source_for(self.username)

    @property
    def limits(self) -> RateLimits:
        return RateLimits(self.per_second, self.per_chat_per_minute, self.burst)

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.token, self.webhook_secret) if s)

    def with_identity(self, username: str, bot_id: str) -> TelegramConfig:
        return replace(self, username=username, bot_id=bot_id)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> TelegramConfig:
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise InvalidSettings(
                N_("unknown settings {names}"), where=WHERE, names=sorted(unknown)
            )
        if "token" not in raw:
            raise InvalidSettings(N_("missing setting 'token'"), where=WHERE)
        try:
            return cls(**dict(raw))
        except TypeError as exc:  # a value of the wrong type (the message names the field only)
            raise InvalidSettings(str(exc), where=WHERE) from None


def checked_user_ids(values: Any) -> tuple[str, ...]:
    """``added_by`` as stored: Telegram user ids (digits), each once, in the order given."""
    if isinstance(values, str):
        values = values.split(",")
    if not isinstance(values, (list, tuple)):
        raise InvalidSettings(
            N_("added_by must be a list of Telegram user ids"), where="--added-by"
        )
    found: list[str] = []
    for value in values:
        text = str(value).strip()
        if not text:
            continue
        if isinstance(value, bool) or not _USER_ID.match(text):
            raise InvalidSettings(
                N_(
                    "{value!r} is not a Telegram user id: give the person's number (e.g."
                    " 123456789), not a @username, separated by commas"
                ),
                where="--added-by",
                value=text,
            )
        if text not in found:
            found.append(text)
    return tuple(found)


def new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


#: where the token shows: python-telegram-bot (its base URL, at DEBUG) and the HTTP client under
#: it (httpx logs each request's URL at INFO, and the URL holds the token)
LOG_FAMILIES = ("telegram", "httpx", "httpcore")
#: named ahead, in case one does not exist yet when the filter is installed
LOGGERS = (
    "telegram.Bot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "httpcore.connection",
    "httpcore.http11",
)


def secret_filter(values: Sequence[str]) -> SecretFilter:
    """The filter that keeps a Telegram connection's token out of the log."""
    return SecretFilter(values, families=LOG_FAMILIES, loggers=LOGGERS)


class ConnectionStore(StoredConnection[TelegramConfig]):
    """The Telegram connection's row (see
    :class:`groupops.platforms.connections.ConnectionStore`)."""

    def __init__(self, db: Engine, source: str) -> None:
        super().__init__(db, source, platform=PLATFORM, parse=TelegramConfig.from_json)


async def identify(config: TelegramConfig) -> TelegramConfig:
    """Ask Telegram who the token belongs to (getMe): checks the token and fills in the bot's
    username and id. Raises PlatformError if refused or unreachable, never naming the token."""
    from telegram import Bot
    from telegram.error import InvalidToken, TelegramError
    from telegram.request import HTTPXRequest

    from groupops.domain.errors import PlatformError

    guard = secret_filter(config.secrets())
    guard.install()
    t = config.request_timeout
    bot = Bot(
        config.token,
        base_url=config.base_url,
        request=HTTPXRequest(read_timeout=t, connect_timeout=t, write_timeout=t, pool_timeout=t),
    )
    where = "telegram getMe"
    try:
        me = await bot.get_me()
    except InvalidToken:
        raise PlatformError(
            N_("Telegram refused the bot token"), where=where, permanent=True
        ) from None
    except TelegramError as exc:
        raise PlatformError(
            N_("cannot reach the Bot API: {error}"), where=where, error=guard.mask(str(exc))
        ) from None
    finally:
        try:
            await bot.shutdown()
        finally:
            guard.remove()
    if not me.username:
        raise PlatformError(N_("getMe answered without a username"), where=where, permanent=True)
    return config.with_identity(me.username, str(me.id))


def connect(
    db: Engine,
    config: TelegramConfig,
    now: datetime,
    *,
    workspace: str | None = None,
    keep: Collection[str] = (),
) -> TelegramConfig:
    """``groupops connect telegram``: check the token with getMe and keep the connection
    (an existing one keeps its polling position, and the stored settings named in ``keep``).
    The settings as stored."""
    import asyncio

    config = asyncio.run(identify(config))
    store = ConnectionStore(db, config.source)
    store.ensure(config, now, workspace, keep)
    return store.load()[0]
