"""A real M_LIMIT_EXCEEDED from Synapse: the deliverer waits as told, delivers every action
once and in order. This homeserver is strict (rc_message 1/s, burst 2), the bot's declared
limits deliberately loose, so it is Synapse that says no."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.engine.app import App
from groupops.engine.outbox import queue_actions
from groupops.storage.tables import connections, outbox
from tests.platforms.matrix.conftest import new_account, run, start_synapse
from tests.platforms.matrix.helpers import Collected, bot_config, bot_room, make_adapter, people
from tests.platforms.matrix.synapse import Synapse

N = 6


@pytest.fixture(scope="module")
def strict_synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    server = start_synapse(
        Path(tmp_path_factory.mktemp("synapse-strict")),
        rc_message={"per_second": 1, "burst_count": 2},
    )
    yield server
    server.stop()


def test_m_limit_exceeded_is_honoured(
    strict_synapse: Synapse, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    server = strict_synapse
    app = App.create(database_url, features=(), extensions=False)  # real clock: real waiting
    bot = new_account(server, "bot")

    async def scenario() -> dict[str, Any]:
        adapter = make_adapter(app.db, bot_config(server, bot), Collected())
        app.platforms.add(adapter)
        await adapter.connect()
        await adapter.sync_once()
        room = await bot_room(adapter)
        (alice,) = await people(server, 1)
        await alice.join(room)
        with app.db.begin() as conn:
            ws = conn.execute(
                select(connections.c.workspace_id).where(connections.c.id == adapter.source)
            ).scalar_one()
            queue_actions(
                conn,
                [
                    (Action(ActionKind.SEND, adapter.source, room, text=f"n{i}"), None)
                    for i in range(N)
                ],
                workspace_id=int(ws),
                now=app.clock.now(),
                feature="t",
                capabilities_of=app.platforms.capabilities,
            )
        started = time.monotonic()
        errors: list[str] = []
        while time.monotonic() - started < 60:
            await app.deliver()
            with app.db.connect() as conn:
                rows = conn.execute(select(outbox.c.status, outbox.c.last_error)).all()
            errors += [r.last_error for r in rows if r.last_error]
            if all(r.status == "delivered" for r in rows):
                break
            await asyncio.sleep(0.1)
        seen: list[str] = []
        while len(seen) < N and time.monotonic() - started < 90:
            seen += [
                r["content"]["body"]
                for r in await alice.events(room, 500)
                if r["sender"] == bot.user_id and r["type"] == "m.room.message"
            ]
        await alice.close()
        await adapter.close()
        with app.db.connect() as conn:
            statuses = [r.status for r in conn.execute(select(outbox.c.status)).all()]
        return {"seen": seen, "statuses": statuses, "errors": errors, "adapter": adapter}

    r = run(scenario())
    app.close()
    assert r["statuses"] == ["delivered"] * N
    assert r["seen"] == [f"n{i}" for i in range(N)]  # once each, in order
    assert any("rate limited" in e for e in r["errors"])  # Synapse really said 429
    # what Synapse saw: 429 answers, and exactly N accepted sends from the bot
    log = server.log_path.read_text()
    sends = [
        line for line in log.splitlines() if "/send/m.room.message/" in line and bot.user_id in line
    ]
    assert any(re.search(r" 429 \"PUT", line) for line in sends)
    assert sum(1 for line in sends if re.search(r" 200 \"PUT", line)) == N
    cfg = r["adapter"].config
    for secret in (bot.password, cfg.access_token):
        assert secret not in caplog.text
        assert all(secret not in e for e in r["errors"])
