"""Live mode (`groupops serve --demo`): the community acts in real time beside a running App,
and stops when told to."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from groupops.engine.app import App
from groupops.platforms.sandbox.adapter import BOT_ID
from groupops.platforms.sandbox.tables import sandbox_messages
from groupops.simulator import run_live
from groupops.storage.tables import events
from groupops.web.chat import DEMO_GROUPS, ensure_groups


def test_live_mode_feeds_the_running_app_and_stops_when_told(database_url: str) -> None:
    async def scenario() -> tuple[dict[str, int], int, bool]:
        app = App.create(database_url, extensions=False)  # the real clock
        ensure_groups(app.sandbox, DEMO_GROUPS)
        await app.start(tick_every=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(run_live(app, seed=3, stop=stop, pace=0.05))
        try:
            await asyncio.sleep(3.0)
            assert not task.done(), "live mode ended on its own"
            stop.set()
            await asyncio.wait_for(task, timeout=15)  # it ends once `stop` is set
            await asyncio.sleep(1.0)  # the App's loops finish what was submitted
        finally:
            stop.set()
            await app.stop()
        with app.db.connect() as conn:
            kinds = {
                str(k): int(n)
                for k, n in conn.execute(
                    select(events.c.kind, func.count())
                    .where(events.c.user_id.startswith("live"))
                    .group_by(events.c.kind)
                )
            }
            bot_lines = conn.execute(
                select(func.count()).where(sandbox_messages.c.user_id == BOT_ID)
            ).scalar_one()
        app.close()
        return kinds, int(bot_lines), task.done()

    kinds, bot_lines, done = asyncio.run(scenario())
    assert done
    assert kinds.get("member_joined", 0) >= 3
    assert kinds.get("message", 0) >= 1
    assert bot_lines >= 1  # the App answered on the platform (welcomes, check-in replies)
