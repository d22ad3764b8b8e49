"""A text longer than Telegram takes goes out as several messages (split.py). When the bot is
stopped between two parts (a failure, a restart, a dead letter retried by an operator), the
retry sends the parts still missing, never the first ones again: each part sent is written down
in the connection's state before the next one goes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.deadletters import retry
from groupops.engine.outbox import queue_actions
from groupops.platforms.telegram import TelegramAdapter
from groupops.platforms.telegram.split import split_message
from groupops.storage.tables import outbox
from tests.platforms.telegram.conftest import GROUP, run, telegram

SOURCE = "telegram:groupops_test_bot"
#: three messages' worth (~12,000 UTF-16 units), cut at paragraph breaks
RULES = "\n\n".join(f"{i}. " + "Be kind and keep to the topic, please. " * 100 for i in range(3))
PARTS = split_message(RULES)


def _texts(fake: object) -> list[str]:
    return [m["text"] for m in fake.sent(GROUP)]  # type: ignore[attr-defined]


def test_a_restart_between_two_parts_sends_only_the_rest(make_app: Callable[..., App]) -> None:
    assert len(PARTS) == 3
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            send = Action(ActionKind.SEND, SOURCE, str(GROUP), text=RULES)
            fake.fail("500", 1, {"sendMessage"}, after=1)  # the second part fails
            with pytest.raises(PlatformError):
                await adapter.perform(send, idempotency_key="outbox:7")
            assert _texts(fake) == PARTS[:1]
            await adapter.close()  # the serve is restarted: nothing in memory survives
            again = TelegramAdapter(
                adapter.config, store=adapter.store, handle=app.handle, clock=app.clock
            )
            await again.connect()
            try:
                result = await again.perform(send, idempotency_key="outbox:7")
            finally:
                await again.close()
            assert _texts(fake) == PARTS  # each part once, in order
            ids = [str(m["message_id"]) for m in fake.sent(GROUP)]
            assert result.platform_message_id == ids[0]
            assert result.data == {"chat_id": str(GROUP), "message_ids": ids}
            assert not again.store.load()[1].get("parts")  # done: nothing kept
            # another action with the same text is sent whole (the record was per action)
            await again.connect()
            try:
                await again.perform(send, idempotency_key="outbox:8")
            finally:
                await again.close()
            assert _texts(fake) == PARTS + PARTS

    run(go())


def test_a_dead_letter_half_sent_and_retried_by_an_operator_is_not_repeated(
    make_app: Callable[..., App],
) -> None:
    """The second part is refused (the bot may not write there for a while): the action is a
    dead letter; the serve is restarted, `groupops outbox retry` puts the action back, and the
    delivery sends parts two and three. The outbox's result names all three messages."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.post(GROUP, {"id": 501, "is_bot": False, "first_name": "A"}, "hi")
            await adapter.poll_once()  # the group exists
            with app.db.begin() as conn:
                queue_actions(
                    conn,
                    [(Action(ActionKind.SEND, SOURCE, str(GROUP), text=RULES), None)],
                    workspace_id=1,
                    now=clock.now(),
                    feature="test",
                    capabilities_of=app.platforms.capabilities,
                )
            fake.fail("400", 1, {"sendMessage"}, after=1)
            await app.deliver()
            with app.db.connect() as conn:
                row = conn.execute(select(outbox)).one()
            assert row.status == "dead" and "not enough rights" in row.last_error.lower()
            assert _texts(fake) == PARTS[:1]
            await adapter.close()  # a restart, later
            clock.advance(timedelta(minutes=10))
            again = TelegramAdapter(adapter.config, store=adapter.store, clock=app.clock)
            await again.connect()
            app.platforms.add(again)
            assert retry(app.db, clock, [row.id]).queued == 1
            try:
                await app.deliver()
            finally:
                await again.close()
            with app.db.connect() as conn:
                row = conn.execute(select(outbox)).one()
            assert row.status == "delivered"
            assert _texts(fake) == PARTS
            assert row.result["message_ids"] == [str(m["message_id"]) for m in fake.sent(GROUP)]

    run(go())
