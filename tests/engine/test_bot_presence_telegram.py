"""The bot kicked from a Telegram group and added back, end to end over the fake Bot API:
the welcome still waiting for the group is not sent (a dead letter saying why, no call to
Telegram), the operator has one task naming the group and who removed the bot, the groups
listing says the bot is removed, and the bot added back closes the task by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from groupops.engine import admin, bot
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.deadletters import NOT_IN_GROUP
from groupops.platforms.telegram.updates import LEAVE_GRACE
from groupops.storage.tables import outbox, owner_tasks
from tests.platforms.telegram.conftest import GROUP, run, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

OWNER = FakeBotApi.person(501, "Olga")
ANN = FakeBotApi.person(601, "Ann")


def test_the_bot_kicked_and_added_back_over_telegram(make_app: Callable[..., App]) -> None:
    app = make_app(features=("groupops.features.welcome:WelcomeFeature",))

    async def go() -> tuple[int, int]:
        async with telegram(app) as (fake, adapter):
            fake.join(GROUP, ANN)
            await adapter.poll_once()  # Ann's welcome is queued, not sent yet
            fake.bot_rights(GROUP, OWNER, status="kicked")
            await adapter.poll_once()
            await app.deliver()
            kicked_sends = len(fake.calls("sendMessage", ok_only=False))
            fake.bot_rights(GROUP, OWNER, status="administrator")
            await adapter.poll_once()
            # the bot added to a supergroup reaches groupops LEAVE_GRACE late (it may be an
            # upgrade's: docs/platforms/telegram.md), then on the next poll
            assert isinstance(app.clock, ManualClock)
            app.clock.advance(timedelta(seconds=LEAVE_GRACE))
            await adapter.poll_once()
            return kicked_sends, len(fake.sent(GROUP))

    calls, sent = run(go())
    assert (calls, sent) == (0, 0)  # nothing tried while the bot was out
    with app.db.connect() as conn:
        dead = conn.execute(select(outbox.c.status, outbox.c.last_error)).all()
        tasks = conn.execute(select(owner_tasks)).all()
    assert [tuple(r) for r in dead] == [("dead", NOT_IN_GROUP)]
    [task] = tasks
    t = app.catalogs.gettext("zh_CN")
    assert task.text == t(bot.REMOVED_BY).format(group="Study group", who="Olga")
    assert (task.status, task.reason) == ("done", t(bot.BACK))  # the bot is back


def test_the_groups_listing_follows_the_bot(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> list[list[object]]:
        seen = []
        async with telegram(app) as (fake, adapter):
            fake.bot_rights(GROUP, OWNER, status="administrator")
            await adapter.poll_once()
            seen.append(_bot(app))
            fake.bot_rights(GROUP, OWNER, status="member")  # demoted: no admin rights
            await adapter.poll_once()
            seen.append(_bot(app))
            fake.bot_rights(GROUP, OWNER, status="kicked")
            await adapter.poll_once()
            seen.append(_bot(app))
        return seen

    assert run(go()) == [
        [True, "administrator", []],
        [True, "member", ["can_delete_messages", "can_restrict_members", "can_invite_users"]],
        [False, "kicked", []],
    ]


def _bot(app: App) -> list[object]:
    [row] = [r for r in admin.list_groups(app.db) if r["chat_id"] == str(GROUP)]
    return [row["bot_in_chat"], row["bot_status"], row["bot_missing"]]
