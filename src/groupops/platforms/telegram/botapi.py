"""What both directions of the Telegram adapter share: the connected ``Bot`` (the HTTP
client), python-telegram-bot's errors as PlatformErrors (secrets masked), and the connection's
stored state (polling position, who started the bot)."""

from __future__ import annotations

import asyncio
import logging
import warnings
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from groupops.domain.errors import PlatformError
from groupops.engine.clock import Clock
from groupops.engine.deadletters import (
    BECAME_SUPERGROUP,
    FAILED,
    NOT_CONNECTED,
    NOT_OF_GROUP,
    RATE_LIMITED,
    REFUSED,
    TIMED_OUT,
    TOKEN_REFUSED,
)
from groupops.platforms.base import Capabilities
from groupops.platforms.secrets import SecretFilter
from groupops.platforms.telegram.config import ConnectionStore, TelegramConfig
from groupops.platforms.telegram.translate import Translator

#: the adapter's logger, whichever of its modules speaks: the SecretFilter masks the token on it
#: (it sits on every groupops.platforms logger), and operators' log settings know it
log = logging.getLogger("groupops.platforms.telegram.adapter")

#: between the chat and the number in the id of a message of a group's new chat
MESSAGE_OF = ":"


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TokenRefused(PlatformError):
    """Telegram answered 401/404 to a method that exists: the token is revoked or wrong
    (the Bot API answers both for a token it does not know)."""

    def __init__(self, where: str) -> None:
        super().__init__(TOKEN_REFUSED, where=where, permanent=True)


class BotApi:
    """The part of :class:`~groupops.platforms.telegram.adapter.TelegramAdapter` that holds
    the connection (set up in its ``__init__`` and ``connect``)."""

    config: TelegramConfig
    source: str
    store: ConnectionStore
    clock: Clock
    capabilities: Capabilities
    translator: Translator
    bot: Bot | None
    _state: dict[str, Any]
    _filter: SecretFilter
    _lock: asyncio.Lock  # one batch of updates at a time; the state saved whole, not mid-batch

    def _bot(self) -> Bot:
        if self.bot is None:
            raise PlatformError(NOT_CONNECTED, where=self.source)
        return self.bot

    def _error(self, exc: TelegramError, what: str) -> PlatformError:
        """A PlatformError from a python-telegram-bot error, as the Bot API said (secrets
        masked: an HTTP library's message may hold the URL, and the URL holds the token)."""
        where = f"{self.source} {what}"
        message = self._filter.mask(str(exc.message if hasattr(exc, "message") else exc))
        if isinstance(exc, RetryAfter):
            with warnings.catch_warnings():  # PTB 22 warns that it becomes a timedelta in 23
                warnings.simplefilter("ignore", DeprecationWarning)
                seconds = _seconds(exc.retry_after)
            return PlatformError(RATE_LIMITED, where=where, retry_after=seconds, reason=message)
        if isinstance(exc, TimedOut):
            return PlatformError(TIMED_OUT, where=where, reason=message)
        if isinstance(exc, (InvalidToken, EndPointNotFound)):
            # 401/404: python-telegram-bot calls it InvalidToken, or EndPointNotFound for a
            # raw request (getUpdates) once the bot was initialized; both mean the token
            return TokenRefused(where)
        if isinstance(exc, ChatMigrated):
            return PlatformError(
                BECAME_SUPERGROUP, where=where, permanent=True, chat=exc.new_chat_id
            )
        if isinstance(exc, (BadRequest, Forbidden)):
            return PlatformError(REFUSED, where=where, permanent=True, reason=message)
        # NetworkError (5xx, connection failures), Conflict (409) and the rest: try again
        return PlatformError(FAILED, where=where, reason=message)

    async def save(self) -> None:
        """Store the state as it is, not in the middle of a batch of updates."""
        async with self._lock:
            self.store.save_state(self._state)

    @property
    def offset(self) -> int | None:
        value = self._state.get("offset")
        return int(value) if value is not None else None

    # -- groups upgraded to supergroups ---------------------------------------------------
    # Telegram gives an upgraded group a new chat id and refuses the old one. groupops keeps
    # the old id as the group's identity (its settings, members, points stay with it): events
    # of the new chat are translated to it, and its actions go to the new chat.

    def platform_chat(self, chat_id: str) -> str:
        """The chat id Telegram knows now for groupops' ``chat_id``."""
        return str((self._state.get("migrated") or {}).get(chat_id, chat_id))

    def group_chat(self, platform_chat_id: str) -> str:
        """groupops' chat id for a chat Telegram names ``platform_chat_id``."""
        for old, new in (self._state.get("migrated") or {}).items():
            if new == platform_chat_id:
                return str(old)
        return platform_chat_id

    # A supergroup numbers its messages anew: under the group's one chat id, the old chat's
    # message 5 and the new chat's would be one id, and the engine's lookups by (group,
    # message) (whose message a reaction is to, which one moderation removed) would find the
    # old one. A message of the new chat is therefore ``<new chat id>:<number>`` in groupops;
    # the old chat's keep their plain numbers (so do the new chat's stored before this was
    # done: :meth:`Delivery._in_old_chat` tells those apart by their time).

    def group_message(self, platform_chat_id: str, number: str) -> str:
        """groupops' id of message ``number`` of the chat Telegram names
        ``platform_chat_id``."""
        if not number or self.group_chat(platform_chat_id) == platform_chat_id:
            return number
        return f"{platform_chat_id}{MESSAGE_OF}{number}"

    def message_number(self, chat_id: str, message_id: str) -> tuple[str, bool]:
        """(the number Telegram knows, whether groupops' ``message_id`` of group ``chat_id``
        names the new chat). An id naming a chat that is not the group's is refused."""
        chat, of, number = message_id.rpartition(MESSAGE_OF)
        if not of:
            return message_id, False
        if chat != self.platform_chat(chat_id):
            raise PlatformError(
                NOT_OF_GROUP,
                where=self.source,
                permanent=True,
                id=repr(message_id),
                group=chat_id,
            )
        return number, True

    def note_migration(self, old: str, new: str, when: datetime | None = None) -> bool:
        """The group ``old`` became the supergroup ``new`` (at ``when``, the notice's date;
        None: now); True if that is news (the caller saves the state)."""
        migrated: dict[str, str] = self._state.setdefault("migrated", {})
        old = self.group_chat(old)  # (never twice in practice: a supergroup stays one)
        if old == new or migrated.get(old) == new:
            return False
        migrated[old] = new
        self._state.setdefault("migrated_at", {})[old] = (when or self.clock.now()).isoformat()
        refused = self._state.get("refused") or {}
        if isinstance(refused.get(new), dict) and not refused[new].get("left"):
            # the bot's "added" there came first, from whoever upgraded the group (not on
            # added_by): it is the same group, not one to leave
            del refused[new]
        # the bot's join in the new chat, held back (Updates._hold): it was there all along;
        # what happened there meanwhile is the group's, handed over with the next batch
        held = (self._state.get("held") or {}).get(new)
        if isinstance(held, dict) and held.get("updates"):
            held.pop("update", None)
            held["until"] = self.clock.now().isoformat()
        else:
            (self._state.get("held") or {}).pop(new, None)
        log.warning(
            "%s: group %s became supergroup %s; groupops keeps it as group %s",
            self.source,
            old,
            new,
            old,
        )
        return True

    def started(self, user_id: str) -> bool:
        return user_id in set(self._state.get("started", ()))

    def forget_started(self, user_id: str) -> None:
        """Telegram refused a private message to someone who had started the bot (they
        blocked it since, or deleted their account): no longer someone the bot may write to."""
        started = list(self._state.get("started", ()))
        if user_id in started:
            started.remove(user_id)
            self._state["started"] = started
            self.store.save_state(self._state)
