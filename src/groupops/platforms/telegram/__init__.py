"""Telegram: a bot on the Bot API, through python-telegram-bot (see docs/platforms/telegram.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from groupops.platforms.telegram.adapter import TELEGRAM_ACTIONS, TelegramAdapter
from groupops.platforms.telegram.config import (
    PLATFORM,
    ConnectionStore,
    TelegramConfig,
    source_for,
)

if TYPE_CHECKING:
    from groupops.web.runtime import Companion

__all__ = [
    "PLATFORM",
    "TELEGRAM_ACTIONS",
    "ConnectionStore",
    "TelegramAdapter",
    "TelegramConfig",
    "companion",
    "source_for",
]


def companion(source: str) -> Companion:
    """What ``groupops serve`` runs for one Telegram connection: the adapter is added to the
    App's platforms before the deliverer starts, then polls (or registers its webhook and waits)
    until the server stops. The webhook route ``/hooks/telegram/<username>`` is mounted in the
    web app either way; a polling connection has no webhook secret, so it refuses every post.
    The bot's command menu is registered from the commands the App offers in the connection's
    workspace (``App.command_menu``)."""
    from groupops.engine.app import App
    from groupops.platforms.supervise import live_companion
    from groupops.platforms.telegram.webhook import telegram_webhook_route, webhook_path

    built: dict[str, TelegramAdapter] = {}
    username = source.split(":", 1)[1]
    route = telegram_webhook_route(lambda _name: built.get(source), webhook_path(username))

    def build(app: App) -> TelegramAdapter:
        store = ConnectionStore(app.db, source)
        config, _ = store.load()
        built[source] = TelegramAdapter(
            config,
            store=store,
            handle=app.handle,
            clock=app.clock,
            reject=app.engine.reject_event,
            menu=lambda: app.command_menu(source),
        )
        return built[source]

    return live_companion(source, build, routes=[route])
