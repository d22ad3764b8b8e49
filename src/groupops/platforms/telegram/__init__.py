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
    web app either way; a polling connection has no webhook secret, so it refuses every post."""
    import asyncio

    from groupops.engine.app import App
    from groupops.platforms.telegram.webhook import telegram_webhook_route, webhook_path
    from groupops.web.runtime import Companion

    adapters: dict[str, TelegramAdapter] = {}
    username = source.split(":", 1)[1]
    route = telegram_webhook_route(lambda _name: adapters.get(source), webhook_path(username))

    def prepare(app: App) -> None:
        store = ConnectionStore(app.db, source)
        config, _ = store.load()
        adapter = TelegramAdapter(
            config, store=store, handle=app.handle, clock=app.clock, reject=app.engine.reject_event
        )
        app.platforms.add(adapter)
        adapters[source] = adapter

    async def run(app: App, stop: asyncio.Event) -> None:
        adapter = adapters[source]
        try:
            await adapter.run(stop)
        finally:
            await adapter.close()

    return Companion(name=source, run=run, prepare=prepare, routes=[route])
