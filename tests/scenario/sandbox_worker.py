"""The bot process of the sandbox scenario: the App live (real clock, its ingest, deliverer and
ticker loops), fed from a spool the sandbox platform writes (one event as JSON a line).

The sandbox's own live path is the web chat, whose identity cookies do not survive a restart of
`groupops serve`; the scenario plays the sandbox's servers itself and hands their events over
through this spool instead. Every start reads the spool from its first line: like a platform that
re-delivers whatever was not acknowledged, it offers the bot every event again, and the engine's
idempotent store must drop the repeats.

While the file ``<spool>.outage`` exists, the platform answers every action with a 502 (the
scenario's "platform trouble", as the fake Telegram server does).

Run: python -m tests.scenario.sandbox_worker DATABASE_URL SPOOL
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from groupops.domain.actions import Action
from groupops.domain.errors import PlatformError
from groupops.domain.events import Event
from groupops.engine.app import App
from groupops.features.registry import DEFAULT_FEATURES
from groupops.platforms.base import DeliveryResult
from groupops.platforms.sandbox import SandboxAdapter


class TroubledSandbox(SandboxAdapter):
    """The sandbox adapter, refusing with a 502 while the outage flag file exists."""

    def __init__(self, app: App, flag: Path) -> None:
        super().__init__(app.db, app.clock)
        self.flag = flag

    async def perform(self, action: Action, *, idempotency_key: str) -> DeliveryResult:
        if self.flag.exists():
            raise PlatformError("502 Bad Gateway", where=self.source)
        return await super().perform(action, idempotency_key=idempotency_key)


async def feed(app: App, spool: Path) -> None:
    position = 0
    while True:
        with open(spool, "rb") as f:
            f.seek(position)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        position += len(complete)
        for line in complete.splitlines():
            if line.strip():
                app.submit(Event.from_json(json.loads(line)))
        await asyncio.sleep(0.02)


async def main(url: str, spool: Path) -> None:
    app = App.create(url, features=DEFAULT_FEATURES, extensions=False)
    app.platforms.add(TroubledSandbox(app, spool.with_suffix(".outage")))
    await app.start(tick_every=3600)
    print("sandbox bot ready", flush=True)
    try:
        await feed(app, spool)
    finally:
        await app.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
