"""A group upgraded to a supergroup, seen through the engine: the new chat numbers its messages
anew, so without care its message 2 and the old group's message 2 are one id of the same
group; and what happens in the new chat before the bot hears of the upgrade must not make a
second group."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.engine.app import App
from groupops.engine.settings_admin import set_setting
from groupops.features.points.tables import points_ledger
from groupops.platforms.telegram import TelegramAdapter
from groupops.storage.tables import identities
from tests.platforms.telegram.conftest import run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

SOURCE = "telegram:groupops_test_bot"
BASIC = -4001  # a basic group ...
SUPER = -1004001  # ... and the supergroup Telegram made of it
ALICE = FakeBotApi.person(501, "Alice")
BOB = FakeBotApi.person(502, "Bob")
CAROL = FakeBotApi.person(503, "Carol")


def _paid_for_reactions(app: App) -> list[str]:
    with app.db.connect() as conn:
        return list(
            conn.execute(
                select(identities.c.user_id)
                .join(points_ledger, points_ledger.c.member_id == identities.c.member_id)
                .where(points_ledger.c.reason == "reaction", identities.c.source == SOURCE)
            ).scalars()
        )


def test_a_message_of_the_new_chat_is_never_taken_for_the_old_groups_same_number(
    make_app: Callable[..., App],
) -> None:
    """Alice's message 2 in the old group, Bob's message 2 in the supergroup: a reaction to
    Bob's (read after a restart, when the adapter no longer remembers whose it was) pays Bob,
    not Alice, and a reply and a removal naming it go to Bob's message in the new chat."""
    app = make_app(features=("groupops.features.points:PointsFeature",))

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            set_setting(app.db, app.registry, feature="points", key="enabled", value=True)
            fake.add_chat(BASIC, "Study group", kind="group")
            for who in (ALICE, BOB, CAROL):
                fake.join(BASIC, who)
            fake.post(BASIC, ALICE, "one")
            old = fake.post(BASIC, ALICE, "two")
            await adapter.poll_once()
            fake.migrate(BASIC, SUPER, by=ALICE)
            new = fake.post(SUPER, BOB, "hello from the supergroup")
            assert new == old  # the supergroup numbers its messages anew
            await adapter.poll_once()
            await adapter.close()
            again = TelegramAdapter(
                adapter.config, store=adapter.store, handle=app.handle, clock=app.clock
            )
            app.platforms.add(again)
            await again.connect()
            try:
                fake.react(SUPER, CAROL, new, "👍")
                fake.post(SUPER, CAROL, "well said", reply_to_message=fake.messages[(SUPER, new)])
                await again.poll_once()
                rows = stored(app)
                bobs = next(r for r in rows if r.user_id == "502" and r.kind == "message")
                reply = rows[-1]
                assert reply.reply_to_message_id == bobs.message_id
                # what a feature answers with names the message as the adapter gave it
                for kind in (ActionKind.REPLY, ActionKind.PIN, ActionKind.DELETE):
                    await again.perform(
                        Action(kind, SOURCE, str(BASIC), message_id=bobs.message_id, text="noted"),
                        idempotency_key=f"k-{kind}",
                    )
            finally:
                await again.close()
            assert fake.sent(SUPER)[-1]["reply_to_message"]["message_id"] == new
            assert fake.pinned == {SUPER: new}
            assert fake.messages[(SUPER, new)]["deleted"]
            assert not fake.messages[(BASIC, old)].get("deleted")

    run(go())
    assert _paid_for_reactions(app) == ["502"]  # Bob's message, not Alice's number 2
    messages = [r.message_id for r in stored(app) if r.kind == "message"]
    assert len(messages) == len(set(messages))  # one id, one message, in the one group
    assert {r.chat_id for r in stored(app)} == {str(BASIC)}
