"""A group upgraded to a supergroup, seen through the engine: the new chat numbers its messages
anew, so without care its message 2 and the old group's message 2 are one id of the same
group; and what happens in the new chat before the bot hears of the upgrade must not make a
second group."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.settings_admin import set_setting
from groupops.features.points.tables import points_ledger
from groupops.platforms.telegram import TelegramAdapter
from groupops.platforms.telegram.updates import LEAVE_GRACE
from groupops.platforms.telegram.webhook import telegram_webhook_app, webhook_path
from groupops.storage.tables import groups, identities
from tests.helpers import until
from tests.platforms.telegram.conftest import GROUP, OTHER_GROUP, run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi
from tests.platforms.telegram.test_webhook import SECRET, serving, webhook_config

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


def _groups(app: App) -> set[str]:
    with app.db.connect() as conn:
        return set(
            conn.execute(select(groups.c.chat_id).where(groups.c.source == SOURCE)).scalars()
        )


def test_what_happens_in_the_new_chat_before_the_notice_is_the_groups(
    make_app: Callable[..., App],
) -> None:
    """Telegram tells the bot it was added to the new supergroup; a member joins there and
    speaks; only then comes the notice naming the old group. Handed over one update at a time
    (a webhook) or across polls, none of it makes a second group: the new chat's events wait
    with the bot's join and, once the notice comes, are the old group's, in their order."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.post(BASIC, ALICE, "before")
            await adapter.poll_once()
            fake.add_chat(SUPER, "Study group", bot=False)
            fake.bot_rights(SUPER, ALICE, status="administrator")
            fake.join(SUPER, BOB)
            hello = fake.post(SUPER, BOB, "hello in the new chat")
            for update in list(fake.updates):  # one at a time, as the webhook hands them over
                if update["update_id"] >= (adapter.offset or 0):
                    await adapter.process([update])
            assert _groups(app) == {str(BASIC)}
            assert len(stored(app)) == 1  # waiting
            fake.migrate(BASIC, SUPER, by=ALICE)
            await adapter.poll_once()
            assert not adapter.store.load()[1].get("held")
            rows = stored(app)
            assert [(r.kind, r.chat_id) for r in rows] == [
                ("message", str(BASIC)),
                ("member_joined", str(BASIC)),
                ("message", str(BASIC)),
            ]
            assert rows[-1].message_id == f"{SUPER}:{hello}"

    run(go())
    assert _groups(app) == {str(BASIC)}


def test_a_new_supergroups_first_events_wait_with_the_bots_join_a_known_ones_do_not(
    make_app: Callable[..., App],
) -> None:
    """The bot really added to a new supergroup: its join and what follows it there are
    handed over together, in order, LEAVE_GRACE later; a group the bot was already in is not
    held up meanwhile."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)
    fresh = -1004002

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.add_chat(fresh, "A new supergroup", bot=False)
            fake.bot_rights(fresh, ALICE, status="administrator")
            await adapter.poll_once()
            assert adapter.next_release() == LEAVE_GRACE
            clock.advance(timedelta(seconds=20))
            # the next long poll (or the webhook loop's wait) ends when the time comes
            assert adapter.next_release() == LEAVE_GRACE - 20
            fake.join(fresh, BOB)
            fake.post(fresh, BOB, "first words")
            fake.post(GROUP, CAROL, "in a group the bot knows")
            await adapter.poll_once()
            assert [(r.chat_id, r.text) for r in stored(app)] == [
                (str(GROUP), "in a group the bot knows")
            ]
            clock.advance(timedelta(seconds=LEAVE_GRACE - 20 + 1))
            await adapter.poll_once()
            assert adapter.next_release() == LEAVE_GRACE  # nothing held

    run(go())
    assert [r.kind for r in stored(app) if r.chat_id == str(fresh)] == [
        "bot_rights_changed",
        "member_joined",
        "message",
    ]


def test_over_a_webhook_the_new_chats_posts_that_overtake_the_bots_join_wait_for_it(
    make_app: Callable[..., App],
) -> None:
    """Telegram posts a webhook's updates over several connections at once, so a member's
    words in the new supergroup can reach groupops before even the bot's join there and the
    notice naming the group it was. Posted to the webhook route in that order, they make no
    second group: they wait (the bot runs a basic group, of which this may be the upgrade),
    and once the notice comes they are the old group's, before the join and after it, in
    their order."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, **webhook_config()) as (fake, adapter):
            web = telegram_webhook_app({adapter.config.username: adapter})
            async with serving(web) as base:
                await adapter.start_webhook()  # the fake posts from now on ...
                url = base + webhook_path(adapter.config.username)
                fake.webhook = {"url": url, "secret_token": SECRET}  # ... to this server
                fake.add_chat(BASIC, "Study group", kind="group")
                fake.post(BASIC, ALICE, "before")
                await until(lambda: len(stored(app)) == 1)
                fake.add_chat(SUPER, "Study group", bot=False)
                fake.join(SUPER, BOB)
                hello = fake.post(SUPER, BOB, "hello in the new chat")
                fake.bot_rights(SUPER, ALICE, status="administrator")
                fake.post(SUPER, CAROL, "and me")
                fake.migrate(BASIC, SUPER, by=ALICE)
                await until(lambda: len(fake.webhook_posts) == 7)
                assert [status for _, status in fake.webhook_posts] == [200] * 7
            assert not adapter.store.load()[1].get("held")
            rows = stored(app)
            assert [(r.kind, r.chat_id, r.text) for r in rows] == [
                ("message", str(BASIC), "before"),
                ("member_joined", str(BASIC), ""),
                ("message", str(BASIC), "hello in the new chat"),
                ("message", str(BASIC), "and me"),
            ]
            assert rows[2].message_id == f"{SUPER}:{hello}"

    run(go())
    assert _groups(app) == {str(BASIC)}


async def _one_by_one(fake: FakeBotApi, adapter: TelegramAdapter) -> None:
    """The updates not handed over yet, one at a time, as the webhook route hands them."""
    for update in list(fake.updates):
        if update["update_id"] >= (adapter.offset or 0):
            await adapter.process([update])


def test_over_a_webhook_a_new_supergroups_first_words_wait_and_go_after_the_bots_join(
    make_app: Callable[..., App],
) -> None:
    """The bot really added to a new supergroup, a member's words there posted to the
    webhook before the join: they wait LEAVE_GRACE from the first, the join goes before them
    when it comes, and with no notice all of it is handed over, as a new group, the join
    first. A supergroup groupops knows already never waits."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)
    fresh = -1004002

    async def go() -> None:
        async with telegram(app, **webhook_config()) as (fake, adapter):
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.post(BASIC, ALICE, "a basic group")
            fake.post(GROUP, ALICE, "a supergroup")
            await _one_by_one(fake, adapter)
            # (GROUP is a supergroup groupops did not know: it waited; now it is a group)
            clock.advance(timedelta(seconds=LEAVE_GRACE))
            await adapter.process([])
            assert [r.text for r in stored(app)] == ["a basic group", "a supergroup"]
            fake.add_chat(fresh, "A new supergroup", bot=False)
            fake.join(fresh, BOB)
            fake.post(fresh, BOB, "first words")
            fake.post(GROUP, CAROL, "in a group the bot knows")
            await _one_by_one(fake, adapter)
            assert stored(app)[-1].text == "in a group the bot knows"  # not held up
            clock.advance(timedelta(seconds=20))
            fake.bot_rights(fresh, ALICE, status="administrator")
            fake.post(fresh, BOB, "second words")
            await _one_by_one(fake, adapter)
            clock.advance(timedelta(seconds=LEAVE_GRACE - 1))  # 30 s from the join, not more
            await adapter.process([])
            assert not [r for r in stored(app) if r.chat_id == str(fresh)]
            clock.advance(timedelta(seconds=1))
            await adapter.process([])
            assert not adapter.store.load()[1].get("held")

    run(go())
    assert [(r.kind, r.text) for r in stored(app) if r.chat_id == str(fresh)] == [
        ("bot_rights_changed", ""),
        ("member_joined", ""),
        ("message", "first words"),
        ("message", "second words"),
    ]


def test_over_a_webhook_a_supergroup_waits_only_while_a_basic_group_may_become_it(
    make_app: Callable[..., App],
) -> None:
    """With no basic group among the bot's groups (or only upgraded ones), no supergroup can
    be an upgrade's new chat: a new one's words are handed over at once."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app, **webhook_config()) as (fake, adapter):
            fake.post(GROUP, ALICE, "a supergroup")
            await _one_by_one(fake, adapter)
            assert [r.text for r in stored(app)] == ["a supergroup"]
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.post(BASIC, ALICE, "a basic group")
            fake.migrate(BASIC, SUPER, by=ALICE)
            fake.post(OTHER_GROUP, BOB, "another supergroup")
            await _one_by_one(fake, adapter)
            assert stored(app)[-1].text == "another supergroup"

    run(go())


def test_over_a_webhook_words_that_overtook_a_strangers_adding_of_the_bot_are_dropped(
    make_app: Callable[..., App],
) -> None:
    """With added_by set, the bot added to a supergroup by someone not on it, a member's words
    there having come first: they waited, and the group is left, not made of them."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)
    theirs = -1006660001
    stranger = FakeBotApi.person(666, "Mallory")

    async def go() -> None:
        async with telegram(app, added_by=("501",), **webhook_config()) as (fake, adapter):
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.post(BASIC, ALICE, "a basic group")
            fake.add_chat(theirs, "Cheap followers", bot=False)
            fake.post(theirs, stranger, "buy followers")
            fake.bot_rights(theirs, stranger, status="member")
            await _one_by_one(fake, adapter)
            clock.advance(timedelta(seconds=LEAVE_GRACE + 1))
            await adapter.process([])
            assert [r.params["chat_id"] for r in fake.calls("leaveChat")] == [theirs]
            assert not adapter.store.load()[1].get("held")

    run(go())
    assert str(theirs) not in _groups(app)
    assert [r.text for r in stored(app)] == ["a basic group"]
