"""Task messages over the fake Telegram Bot API, end to end: the bot kicked from a group is an
owner task (engine/bot.py), and the operator named in ``notify.to`` who has started the bot
gets it as a private message (sendMessage to their own chat), never posted in a group; one who
never started the bot cannot be written to (Telegram's 403): a dead letter, nothing in a group."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from groupops.engine import settings_admin
from groupops.engine.app import App
from groupops.features.registry import FeatureRegistry
from groupops.storage.tables import groups, outbox, owner_tasks
from tests.platforms.telegram.conftest import GROUP, OTHER_GROUP, run, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

NOTIFY = ("groupops.features.notify:NotifyFeature",)
OLGA = FakeBotApi.person(501, "Olga")  # the operator: she started the bot
LI = FakeBotApi.person(502, "Li")  # named too, never started the bot
ANN = FakeBotApi.person(601, "Ann")


def test_the_operator_is_told_privately_that_the_bot_was_kicked(
    make_app: Callable[..., App],
) -> None:
    app = make_app(features=NOTIFY)
    registry = FeatureRegistry.load(NOTIFY, extensions=False)
    settings_admin.set_setting(
        app.db, registry, feature="notify", key="to", value=["telegram:501", "502", "matrix:@x:y"]
    )
    settings_admin.set_setting(app.db, registry, feature="notify", key="language", value="en")

    async def go() -> tuple[list[str], list[str], int, list[list[dict[str, str]]]]:
        async with telegram(app) as (fake, adapter):
            fake.start_bot(OLGA)
            fake.join(GROUP, ANN)
            fake.join(OTHER_GROUP, ANN)
            await adapter.poll_once()
            fake.bot_rights(GROUP, OLGA, status="kicked")
            await adapter.poll_once()
            app.engine.tick()
            await app.deliver()
            (message,) = fake.sent(501)
            buttons = message["reply_markup"]["inline_keyboard"]
            in_groups = [m["text"] for m in fake.sent(GROUP) + fake.sent(OTHER_GROUP)]
            # Olga presses "Done" under the message, in her private chat with the bot
            fake.press(501, OLGA, message["message_id"], buttons[0][0]["callback_data"])
            await adapter.poll_once()
            await app.deliver()
            to_olga = [m["text"] for m in fake.sent(501)]
            return to_olga, in_groups, len(fake.sent(502)), buttons

    to_olga, in_groups, to_li, buttons = run(go())
    with app.db.connect() as conn:
        (task,) = conn.execute(
            select(owner_tasks.c.id, owner_tasks.c.text, owner_tasks.c.status)
        ).all()
        rows = [
            r
            for r in conn.execute(
                select(outbox.c.status, outbox.c.payload).where(outbox.c.feature == "notify")
            )
            if r.payload["data"].get("notify_tasks")  # the task message, not the answer
        ]
        private = conn.execute(select(groups.c.chat_id)).scalars().all()
    told, answered = to_olga
    assert [b["callback_data"] for b in buttons[0]] == [
        f"task:done:{task.id}",
        f"task:dismiss:{task.id}",
    ]
    assert task.status == "done" and answered == f"✅ Task #{task.id} is marked done."
    assert "501" not in private  # the press in her private chat made no group of it
    assert told.startswith(f"📋 A task for you in Study group (#{task.id}): The bot was removed")
    assert "Olga" in told and f"groupops tasks done {task.id}" in told
    assert all("task" not in text for text in in_groups)
    assert to_li == 0
    assert sorted((r.status, r.payload["user_id"]) for r in rows) == [
        ("dead", "502"),
        ("delivered", "501"),
    ]
