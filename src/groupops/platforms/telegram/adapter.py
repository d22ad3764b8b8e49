"""The Telegram adapter: Bot API updates in, actions out, through python-telegram-bot's ``Bot``
(the HTTP client only; no ``Application``: groupops' App owns the loops).

In: long polling (``getUpdates``) or a webhook (:mod:`.webhook`). Each batch of updates is
translated (:mod:`.translate`) and handed to the engine in one batch; only after that batch is
committed does the polling position (``offset``) move in ``connections.state``, so a restart
replays nothing and loses nothing (and the engine's store, idempotent on the update id, makes a
replay after a crash between the two commits harmless).

Out: :meth:`TelegramAdapter.perform` does one action. The Bot API has no idempotency key: a send
whose answer was lost in a time-out may be sent again by the deliverer's retry.

The class is put together from :mod:`.botapi` (the connection, errors, stored state),
:mod:`.updates` (in), :mod:`.deliver` (out) and :mod:`.menu` (the bot's command menu, kept
registered while it runs); this module sets it up and runs its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import replace

from telegram import Bot
from telegram.error import TelegramError
from telegram.request import HTTPXRequest

from groupops.domain.errors import NotFound, PlatformError
from groupops.engine.clock import Clock, RealClock
from groupops.engine.deadletters import TOKEN_REFUSED, UPDATES_NOT_HANDLED
from groupops.platforms.base import Capabilities, MenuReader
from groupops.platforms.supervise import (
    DISABLED,
    Backoff,
    Handler,
    Health,
    Rejecter,
    changed_settings,
    stored_differs,
    unless_stopped,
    watch,
)
from groupops.platforms.telegram.botapi import TokenRefused, log
from groupops.platforms.telegram.config import ConnectionStore, TelegramConfig, secret_filter
from groupops.platforms.telegram.deliver import (
    CALLBACK_DATA_MAX,
    DELETE_MAX_AGE,
    TELEGRAM_ACTIONS,
    Delivery,
    keyboard,
)
from groupops.platforms.telegram.menu import Menu
from groupops.platforms.telegram.translate import Translator
from groupops.platforms.telegram.updates import (
    ALLOWED_UPDATES,
    MAX_STARTED,
    Updates,
)

__all__ = [
    "ALLOWED_UPDATES",
    "CALLBACK_DATA_MAX",
    "DELETE_MAX_AGE",
    "DISABLED",
    "MAX_STARTED",
    "TELEGRAM_ACTIONS",
    "TOKEN_REFUSED",
    "Handler",
    "Rejecter",
    "TelegramAdapter",
    "TokenRefused",
    "keyboard",
]


class TelegramAdapter(Updates, Delivery, Menu):
    """One Telegram bot. ``menu`` reads the commands offered in the groups of its workspace
    (``App.command_menu``), registered as the bot's command menu (:mod:`.menu`); None: no
    menu is registered."""

    def __init__(
        self,
        config: TelegramConfig,
        *,
        store: ConnectionStore,
        handle: Handler | None = None,
        clock: Clock | None = None,
        reject: Rejecter | None = None,
        menu: MenuReader | None = None,
    ) -> None:
        self.config = config
        self.source = config.source
        self.store = store
        self.handle = handle
        self.reject = reject
        self.menu = menu
        self._menu_looked = None
        self._menu_refused = {}
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
        self.bot = None
        self._state = {}
        self._admins = {}
        self._known = set()
        self._filter = secret_filter(config.secrets())
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
        self._menu_looked = None  # a new connection registers the menu anew if it changed
        self._menu_refused = {}
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
                try:
                    if await self.reload():
                        registered = False
                except NotFound:
                    log.warning("%s: the connection was removed; stopped", self.source)
                    return
                if not self.config.enabled:
                    await watch(stop, None, self._settings_changed)
                    continue
                if self.bot is None:
                    await self.connect()
                    registered = False
                await self.sync_menu()  # on connecting, then once a minute at most
                if self.config.mode == "webhook":
                    if not registered:
                        await self.start_webhook()
                        registered = True
                    backoff.ok()
                    await watch(stop, self.next_release(), self._settings_changed)
                    # a held join or a leave whose time came with no update since
                    await self.process([])
                    continue
                if not registered:
                    await self._bot().delete_webhook()  # getUpdates is refused while one is set
                    registered = True
                wait = self.config.poll_timeout if timeout is None else timeout
                if self._state.get("held"):  # back when a held join's time comes
                    wait = min(wait, math.ceil(self.next_release()))
                if not await unless_stopped(self.poll_once(wait), stop):
                    break
                backoff.ok()
                continue
            except PlatformError as exc:
                error: PlatformError = exc
            except TelegramError as exc:
                error = self._error(exc, "")
            except Exception as exc:  # the engine, the database, a bug: ask for the same again
                error = PlatformError(
                    UPDATES_NOT_HANDLED,
                    where=self.source,
                    error=f"{type(exc).__name__}: {self._filter.mask(str(exc))}",
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
        self._filter = secret_filter([*self._filter.secrets, *config.secrets()])
        self.capabilities = replace(self.capabilities, limits=config.limits)
        return True
