"""The Telegram tests: python-telegram-bot against the fake Bot API server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from sqlalchemy import select

from groupops.engine.app import App
from groupops.platforms.telegram import ConnectionStore, TelegramAdapter, TelegramConfig
from groupops.platforms.telegram.config import identify
from groupops.storage.tables import events
from tests.platforms.telegram.fake_bot_api import FakeBotApi

T = TypeVar("T")

#: a token shaped like @BotFather's; every test checks it never shows in logs or errors
TOKEN = "7000001:AAHsecretTOKENneverShown_abcdefghij012"
GROUP = -1001234567890
OTHER_GROUP = -1009876543210


def run(coro: Awaitable[T]) -> T:
    return asyncio.run(coro)  # type: ignore[arg-type]


@asynccontextmanager
async def telegram(
    app: App, *, connect: bool = True, **config: Any
) -> AsyncIterator[tuple[FakeBotApi, TelegramAdapter]]:
    """The fake server with two groups, and a connected adapter added to the App."""
    fake_options = {k: config.pop(k) for k in ("enforce_limits", "hang_seconds") if k in config}
    fake = await FakeBotApi(TOKEN, now=app.clock.now, **fake_options).start()
    fake.add_chat(GROUP, "Study group")
    fake.add_chat(OTHER_GROUP, "Second group")
    adapter: TelegramAdapter | None = None
    try:
        settings = TelegramConfig(
            TOKEN,
            base_url=fake.base_url,
            request_timeout=config.pop("request_timeout", 2.0),
            poll_timeout=config.pop("poll_timeout", 0),
            **config,
        )
        settings = await identify(settings)
        store = ConnectionStore(app.db, settings.source)
        store.ensure(settings, app.clock.now())
        adapter = TelegramAdapter(settings, store=store, handle=app.handle, clock=app.clock)
        app.platforms.add(adapter)
        if connect:
            await adapter.connect()
        yield fake, adapter
    finally:
        if adapter is not None:
            await adapter.close()
        await fake.stop()


def stored(app: App, source: str = "telegram:groupops_test_bot") -> list[Any]:
    with app.db.connect() as conn:
        return list(
            conn.execute(select(events).where(events.c.source == source).order_by(events.c.seq))
        )


@contextmanager
def fake_in_thread() -> Iterator[FakeBotApi]:
    """The fake server on its own event loop in a thread (for code that runs asyncio.run
    itself, such as the CLI)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    fake = asyncio.run_coroutine_threadsafe(FakeBotApi(TOKEN).start(), loop).result(10)
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
