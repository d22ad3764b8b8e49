"""The Telegram adapter: Bot API updates in, actions out, through python-telegram-bot's ``Bot``
(the HTTP client only; no ``Application``: groupops' App owns the loops).

In: long polling (``getUpdates``) or a webhook (:mod:`.webhook`). Each batch of updates is
translated (:mod:`.translate`) and handed to the engine in one batch; only after that batch is
committed does the polling position (``offset``) move in ``connections.state``, so a restart
replays nothing and loses nothing (and the engine's store, idempotent on the update id, makes a
replay after a crash between the two commits harmless).

Out: :meth:`TelegramAdapter.perform` does one action. The Bot API has no idempotency key: a send
whose answer was lost in a time-out may be sent again by the deliverer's retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import (
    Bot,
    ChatPermissions,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
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
from telegram.request import HTTPXRequest

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import GroupopsError, NotFound, PlatformError, RecipientUnreachable
from groupops.domain.events import Event
from groupops.engine.clock import Clock, RealClock
from groupops.platforms.base import Capabilities, DeliveryResult
from groupops.platforms.supervise import (
    Backoff,
    Health,
    changed_settings,
    stored_differs,
    watch,
)
from groupops.platforms.telegram.config import ConnectionStore, SecretFilter, TelegramConfig
from groupops.platforms.telegram.translate import ADMIN, GROUP_TYPES, Translator

log = logging.getLogger(__name__)

TELEGRAM_ACTIONS = frozenset(
    {
        ActionKind.SEND,
        ActionKind.REPLY,
        ActionKind.DIRECT_MESSAGE,
        ActionKind.DELETE,
        ActionKind.MUTE,
        ActionKind.UNMUTE,
        ActionKind.KICK,
        ActionKind.BAN,
        ActionKind.UNBAN,
        ActionKind.PIN,
        ActionKind.CREATE_INVITE_LINK,
        ActionKind.APPROVE_JOIN,
        ActionKind.DECLINE_JOIN,
    }
)
#: a bot may delete other people's messages for 48 hours only
DELETE_MAX_AGE = 48 * 3600
#: the updates asked for: chat_member and message_reaction only come when asked for by name
ALLOWED_UPDATES = (
    "message",
    "edited_message",
    "chat_member",
    "my_chat_member",
    "chat_join_request",
    "message_reaction",
    "callback_query",
)
MAX_STARTED = 200_000  # people remembered as having started the bot
CALLBACK_DATA_MAX = 64  # bytes, by the Bot API
DISABLED = "the connection is disabled (groupops connections enable turns it on again)"
TOKEN_REFUSED = (
    "the bot token was refused (revoked?): run `groupops connect telegram --token …` with the"
    " token from @BotFather; the running serve picks it up"
)

Handler = Callable[[Sequence[Event]], object]
#: keeps what the engine could not take, with the reason (``Engine.reject``)
Rejecter = Callable[[str, str, Exception], None]


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _int(value: str, what: str, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PlatformError(f"bad {what} {value!r}", where=where, permanent=True) from None


class TokenRefused(PlatformError):
    """Telegram answered 401/404 to a method that exists: the token is revoked or wrong
    (the Bot API answers both for a token it does not know)."""

    def __init__(self, where: str) -> None:
        super().__init__(TOKEN_REFUSED, where=where, permanent=True)


def keyboard(rows: Any, where: str) -> InlineKeyboardMarkup | None:
    """``Action.data["buttons"]`` (rows of {"text", "data"}) as an inline keyboard."""
    if not rows:
        return None
    try:
        built = []
        for row in rows:
            line = []
            for b in row:
                data = str(b["data"])
                if len(data.encode()) > CALLBACK_DATA_MAX:
                    raise PlatformError(
                        f"button data longer than {CALLBACK_DATA_MAX} bytes",
                        where=where,
                        permanent=True,
                    )
                line.append(InlineKeyboardButton(str(b["text"]), callback_data=data))
            built.append(line)
    except (KeyError, TypeError) as exc:
        raise PlatformError(f"malformed buttons: {exc}", where=where, permanent=True) from None
    return InlineKeyboardMarkup(built)


class TelegramAdapter:
    """One Telegram bot."""

    def __init__(
        self,
        config: TelegramConfig,
        *,
        store: ConnectionStore,
        handle: Handler | None = None,
        clock: Clock | None = None,
        reject: Rejecter | None = None,
    ) -> None:
        self.config = config
        self.source = config.source
        self.store = store
        self.handle = handle
        self.reject = reject
        self.clock = clock or RealClock()
        self.capabilities = Capabilities(
            platform="telegram",
            actions=TELEGRAM_ACTIONS,
            limits=config.limits,
            delete_max_age=DELETE_MAX_AGE,
            join_attribution=True,  # chat_member updates name the invite link used
            buttons=True,
        )
        self.translator = Translator(self.source, config.bot_id, now=self.clock.now)
        self.bot: Bot | None = None
        self._state: dict[str, Any] = {}
        self._admins: dict[str, tuple[datetime, frozenset[str]]] = {}
        self._filter = SecretFilter(config.secrets())
        self._lock = asyncio.Lock()  # one batch of updates at a time (poll loop vs webhook)
        self.health = Health(self.source, store, lambda: self._state, self.clock.now)

    # -- lifecycle -------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open the HTTP client (checking the token with getMe) and load the stored state."""
        if self.bot is not None:
            return
        self._filter.install()  # before the Bot exists: it logs its URL (with the token)
        _, self._state = self.store.load()
        t = self.config.request_timeout
        bot = Bot(
            self.config.token,
            base_url=self.config.base_url,
            request=HTTPXRequest(
                connection_pool_size=16,
                read_timeout=t,
                write_timeout=t,
                connect_timeout=t,
                pool_timeout=t,
            ),
            get_updates_request=HTTPXRequest(
                connection_pool_size=1,
                read_timeout=self.config.poll_timeout + t,
                write_timeout=t,
                connect_timeout=t,
                pool_timeout=t,
            ),
        )
        try:
            await bot.initialize()
        except TelegramError as exc:
            with contextlib.suppress(Exception):
                await bot.shutdown()
            raise self._error(exc, "getMe") from None
        self.bot = bot
        log.info(
            "%s: connected to the Bot API (%s)",
            self.source,
            "webhook" if self.config.mode == "webhook" else "long polling",
        )

    async def close(self) -> None:
        if self.bot is not None:
            try:
                await self.bot.shutdown()
            finally:
                self.bot = None
        self._filter.remove()

    def _bot(self) -> Bot:
        if self.bot is None:
            raise PlatformError("not connected", where=self.source)
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
            return PlatformError(f"rate limited: {message}", where=where, retry_after=seconds)
        if isinstance(exc, TimedOut):
            return PlatformError(f"timed out: {message}", where=where)
        if isinstance(exc, (InvalidToken, EndPointNotFound)):
            # 401/404: python-telegram-bot calls it InvalidToken, or EndPointNotFound for a
            # raw request (getUpdates) once the bot was initialized; both mean the token
            return TokenRefused(where)
        if isinstance(exc, ChatMigrated):
            return PlatformError(
                f"the group became supergroup {exc.new_chat_id}", where=where, permanent=True
            )
        if isinstance(exc, (BadRequest, Forbidden)):
            return PlatformError(f"refused: {message}", where=where, permanent=True)
        # NetworkError (5xx, connection failures), Conflict (409) and the rest: try again
        return PlatformError(f"failed: {message}", where=where)

    @property
    def offset(self) -> int | None:
        value = self._state.get("offset")
        return int(value) if value is not None else None

    def started(self, user_id: str) -> bool:
        return user_id in set(self._state.get("started", ()))

    # -- in: updates -----------------------------------------------------------------------
    async def _admins_of(self, chat_id: str) -> frozenset[str]:
        now = self.clock.now()
        cached = self._admins.get(chat_id)
        if cached and now - cached[0] < timedelta(seconds=self.config.admin_cache_seconds):
            return cached[1]
        try:
            found = await self._bot().get_chat_administrators(int(chat_id))
        except (TelegramError, ValueError) as exc:
            log.warning("%s: administrators of %s unknown: %s", self.source, chat_id, exc)
            return cached[1] if cached else frozenset()
        ids = frozenset(str(m.user.id) for m in found)
        self._admins[chat_id] = (now, ids)
        return ids

    def _track(self, update: Mapping[str, Any]) -> bool:
        """Remember who started the bot (a private /start) or blocked it; True if changed."""
        started: list[str] = list(self._state.get("started", ()))
        message = update.get("message") or {}
        chat = message.get("chat") or {}
        if chat.get("type") == "private" and str(message.get("text", "")).startswith("/start"):
            user = str(chat.get("id"))
            if user not in started:
                started.append(user)
                self._state["started"] = started[-MAX_STARTED:]
                return True
        member = update.get("my_chat_member") or {}
        mchat = member.get("chat") or {}
        if mchat.get("type") == "private":
            user, status = str(mchat.get("id")), (member.get("new_chat_member") or {}).get("status")
            if status == "kicked" and user in started:  # the person blocked the bot
                started.remove(user)
                self._state["started"] = started
                return True
            if status == "member" and user not in started:
                started.append(user)
                self._state["started"] = started[-MAX_STARTED:]
                return True
        return False

    async def process(self, updates: Sequence[Mapping[str, Any]]) -> list[Event]:
        """Translate a batch of updates, hand the events to the engine (one transaction), then
        store the position past them. Raises if the engine fails: nothing is stored then."""
        async with self._lock:
            chats_needing_admins: set[str] = set()
            for u in updates:
                for key in ("message", "edited_message", "message_reaction"):
                    chat = (u.get(key) or {}).get("chat") or {}
                    if chat.get("type") in GROUP_TYPES:
                        chats_needing_admins.add(str(chat["id"]))
                q = (u.get("callback_query") or {}).get("message") or {}
                if (q.get("chat") or {}).get("type") in GROUP_TYPES:
                    chats_needing_admins.add(str(q["chat"]["id"]))
            admins = {c: await self._admins_of(c) for c in chats_needing_admins}
            events: list[Event] = []
            for u in updates:
                self._note_admin_change(u)
                try:
                    event = self.translator.translate(
                        u, lambda c, user: user in admins.get(c, frozenset())
                    )
                except (KeyError, TypeError, ValueError, GroupopsError) as exc:
                    log.warning(
                        "%s: update %s not understood: %s", self.source, u.get("update_id"), exc
                    )
                    continue
                if event is not None:
                    events.append(event)
            if events and self.handle is not None:
                self._hand_over(events)  # commits: only then does the position move
            changed = False
            for u in updates:
                changed = self._track(u) or changed
            ids = [int(u["update_id"]) for u in updates if isinstance(u.get("update_id"), int)]
            if ids and (self.offset is None or max(ids) + 1 > self.offset):
                self._state["offset"] = max(ids) + 1
                changed = True
            if changed:
                self.store.save_state(self._state)
        for u in updates:
            if "callback_query" in u:
                await self._answer(u["callback_query"])
        return events

    def _hand_over(self, events: list[Event]) -> None:
        """One transaction for the batch. If it fails, each event alone: one the engine cannot
        take is kept aside for an operator (``reject``) instead of stalling the stream; if even
        that fails (the database is down), the error goes up and the same updates come again."""
        assert self.handle is not None
        try:
            self.handle(events)
            return
        except Exception:
            if self.reject is None:
                raise
            log.exception("%s: batch of %d events failed; one by one", self.source, len(events))
        for event in events:
            try:
                self.handle([event])
            except Exception as exc:
                self.reject(event.source, json.dumps(event.to_json(), default=str), exc)

    def _note_admin_change(self, update: Mapping[str, Any]) -> None:
        cm = update.get("chat_member") or {}
        chat_id = str((cm.get("chat") or {}).get("id", ""))
        if chat_id in self._admins:
            new = cm.get("new_chat_member") or {}
            user = str((new.get("user") or {}).get("id", ""))
            when, ids = self._admins[chat_id]
            ids = ids | {user} if new.get("status") in ADMIN else ids - {user}
            self._admins[chat_id] = (when, ids)

    async def _answer(self, query: Mapping[str, Any]) -> None:
        """Stop the pressed button's spinner (best effort: the press is already stored)."""
        try:
            await self._bot().answer_callback_query(str(query.get("id")))
        except TelegramError as exc:
            log.info("%s: callback query not answered: %s", self.source, self._error(exc, "answer"))

    async def poll_once(self, timeout: int = 0) -> list[Event]:
        """One ``getUpdates`` from the stored offset; the events handed to the engine."""
        bot = self._bot()
        kwargs: dict[str, Any] = {"timeout": timeout, "allowed_updates": list(ALLOWED_UPDATES)}
        if self.offset is not None:
            kwargs["offset"] = self.offset
        try:
            # the raw JSON, not Bot.get_updates: its strict parsing fails the whole batch on one
            # update it cannot build (a newer Bot API field), and the poll would stall on it
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*Bot.getUpdates", category=UserWarning)
                raw = await bot.do_api_request(
                    "getUpdates",
                    api_kwargs=kwargs,
                    read_timeout=timeout + self.config.request_timeout,
                )
        except TelegramError as exc:
            raise self._error(exc, "getUpdates") from None
        updates = [u for u in (raw or []) if isinstance(u, dict)]
        if not updates:
            return []
        return await self.process(updates)

    async def start_webhook(self) -> None:
        """Ask Telegram to post updates to the configured URL, with the secret header."""
        try:
            await self._bot().set_webhook(
                self.config.webhook_url,
                secret_token=self.config.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        except TelegramError as exc:
            raise self._error(exc, "setWebhook") from None

    async def run(self, stop: asyncio.Event, *, timeout: int | None = None) -> None:
        """Poll (or register the webhook and wait) until ``stop`` is set. Every failure,
        the first getMe included, is logged as one line and tried again after a growing pause
        (1 s to a minute; five minutes for a refused token). A change of the stored connection
        (``groupops connect telegram`` again, ``groupops connections disable``) is taken up
        while running: within seconds when failing or idle, after the current poll
        otherwise."""
        backoff = Backoff(self.health, self._settings_changed)
        registered = False
        while not stop.is_set():
            try:
                if await self.reload():
                    registered = False
            except NotFound:
                log.warning("%s: the connection was removed; stopped", self.source)
                return
            if not self.config.enabled:
                await watch(stop, None, self._settings_changed)
                continue
            try:
                if self.bot is None:
                    await self.connect()
                    registered = False
                if self.config.mode == "webhook":
                    if not registered:
                        await self.start_webhook()
                        registered = True
                    backoff.ok()
                    await watch(stop, None, self._settings_changed)
                    continue
                if not registered:
                    await self._bot().delete_webhook()  # getUpdates is refused while one is set
                    registered = True
                poll = asyncio.ensure_future(
                    self.poll_once(self.config.poll_timeout if timeout is None else timeout)
                )
                stopper = asyncio.ensure_future(stop.wait())
                await asyncio.wait({poll, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if not poll.done():
                    poll.cancel()  # a cancelled poll stored nothing: the next run asks again
                    await asyncio.gather(poll, return_exceptions=True)
                    stopper.cancel()
                    break
                stopper.cancel()
                poll.result()
                backoff.ok()
                continue
            except PlatformError as exc:
                error: PlatformError = exc
            except TelegramError as exc:
                error = self._error(exc, "")
            except Exception as exc:  # the engine or the database: ask for the same updates again
                error = PlatformError(
                    f"updates not handled: {self._filter.mask(str(exc))}", where=self.source
                )
            refused = isinstance(error, TokenRefused)
            if refused:
                await self.close()  # the next try starts with getMe again
            await backoff.failed(stop, error, refused=refused)

    def _settings_changed(self) -> bool:
        return stored_differs(self.store, self.config)

    async def reload(self) -> bool:
        """Take up the stored settings if they changed (a new token from ``groupops connect``,
        disabled or enabled): True if they did. Raises NotFound if the connection is gone."""
        config = changed_settings(self.store, self.config, self.source)
        if config is None:
            return False
        await self.close()
        self.config = config
        self._filter = SecretFilter([*self._filter.secrets, *config.secrets()])
        self.capabilities = replace(self.capabilities, limits=config.limits)
        return True

    # -- out: actions ----------------------------------------------------------------------
    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        if not self.capabilities.can(action.kind):
            raise PlatformError(f"telegram cannot {action.kind}", where=self.source, permanent=True)
        if not self.config.enabled:
            raise PlatformError(DISABLED, where=self.source, permanent=True)
        what = f"{action.kind} in {action.chat_id}"
        try:
            return await self._perform(action, what)
        except TelegramError as exc:
            raise self._error(exc, what) from None

    def _sent(self, message: Message, chat_id: str) -> DeliveryResult:
        mid = str(message.message_id)
        self.translator.remember(chat_id, mid, self.config.bot_id, message.date)
        return DeliveryResult(mid, {"chat_id": str(message.chat.id)})

    async def _perform(self, action: Action, what: str) -> DeliveryResult:
        bot = self._bot()
        where = f"{self.source} {what}"
        kind = action.kind
        chat = _int(action.chat_id, "chat id", where)
        user = _int(action.user_id, "user id", where) if action.user_id else 0
        if kind in (ActionKind.SEND, ActionKind.REPLY):
            # plain text, no parse_mode: a member's name cannot become markup
            reply = None
            if kind == ActionKind.REPLY:
                reply = ReplyParameters(
                    _int(action.message_id, "message id", where), allow_sending_without_reply=True
                )
            sent = await bot.send_message(
                chat,
                action.text,
                reply_parameters=reply,
                reply_markup=keyboard(action.data.get("buttons"), where),
                disable_notification=bool(action.data.get("silent", False)),
            )
            return self._sent(sent, action.chat_id)
        if kind == ActionKind.DIRECT_MESSAGE:
            if not self.started(action.user_id):
                raise RecipientUnreachable(
                    "the member has not started a private chat with the bot", where=where
                )
            sent = await bot.send_message(
                user, action.text, reply_markup=keyboard(action.data.get("buttons"), where)
            )
            return DeliveryResult(str(sent.message_id), {"chat_id": action.user_id})
        if kind == ActionKind.DELETE:
            mid = _int(action.message_id, "message id", where)
            when = self.translator.sent_at(action.chat_id, action.message_id)
            if when is None and action.data.get("message_at"):
                when = datetime.fromisoformat(str(action.data["message_at"]))
            if when is not None and when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if when is not None and (self.clock.now() - when).total_seconds() > DELETE_MAX_AGE:
                raise PlatformError(
                    "Telegram lets bots delete messages for 48 hours only",
                    where=where,
                    permanent=True,
                )
            await bot.delete_message(chat, mid)
            return DeliveryResult()
        if kind == ActionKind.MUTE:
            await bot.restrict_chat_member(
                chat,
                user,
                ChatPermissions.no_permissions(),
                until_date=action.until,
                use_independent_chat_permissions=True,
            )
            return DeliveryResult()
        if kind == ActionKind.UNMUTE:
            info = await bot.get_chat(chat)
            permissions = info.permissions or ChatPermissions.all_permissions()
            await bot.restrict_chat_member(
                chat, user, permissions, use_independent_chat_permissions=True
            )
            return DeliveryResult()
        if kind == ActionKind.BAN:
            await bot.ban_chat_member(
                chat,
                user,
                until_date=action.until,
                revoke_messages=bool(action.data.get("revoke_messages", False)),
            )
            return DeliveryResult()
        if kind == ActionKind.KICK:
            await bot.ban_chat_member(chat, user)
            await bot.unban_chat_member(chat, user, only_if_banned=True)  # may come back
            return DeliveryResult()
        if kind == ActionKind.UNBAN:
            await bot.unban_chat_member(chat, user, only_if_banned=True)
            return DeliveryResult()
        if kind == ActionKind.APPROVE_JOIN:
            await bot.approve_chat_join_request(chat, user)
            return DeliveryResult()
        if kind == ActionKind.DECLINE_JOIN:
            await bot.decline_chat_join_request(chat, user)
            return DeliveryResult()
        if kind == ActionKind.PIN:
            await bot.pin_chat_message(
                chat,
                _int(action.message_id, "message id", where),
                disable_notification=not action.data.get("notify", False),
            )
            return DeliveryResult()
        if kind == ActionKind.CREATE_INVITE_LINK:
            name = str(action.data.get("invite_name") or "")[:32] or None
            link = await bot.create_chat_invite_link(
                chat,
                name=name,
                creates_join_request=bool(action.data.get("join_request", False)),
            )
            return DeliveryResult(
                "", {"invite_link": link.invite_link, "invite_name": link.name or ""}
            )
        raise PlatformError(f"telegram cannot {kind}", where=where, permanent=True)
