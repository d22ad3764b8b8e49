"""What a week of running live Telegram groups brings (QA live findings, /work/notes/qa-live.md):
mutes and bans delivered late, a group upgraded to a supergroup, the linked channel's posts,
messages already deleted, people who blocked the bot, forum topics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError, RecipientUnreachable
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.storage.tables import groups
from tests.platforms.telegram.conftest import GROUP, run, stored, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

ALICE = FakeBotApi.person(501, "Alice")
SOURCE = "telegram:groupops_test_bot"


def act(kind: ActionKind, **kw: object) -> Action:
    return Action(kind, SOURCE, str(kw.pop("chat_id", GROUP)), **kw)  # type: ignore[arg-type]


def test_a_late_mute_or_ban_never_becomes_forever(make_app: Callable[..., App]) -> None:
    """Telegram reads an until_date less than 30 s away as *forever*: a 10-minute mute
    delivered 9 m 50 s late must not mute for ever, and one delivered after its end must not
    mute at all."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.join(GROUP, ALICE)
            key = (GROUP, 501)
            decided = clock.now()
            mute = act(ActionKind.MUTE, user_id="501", until=decided + timedelta(minutes=10))
            clock.advance(timedelta(minutes=9, seconds=50))  # a queue, a retry, an outage
            await adapter.perform(mute, idempotency_key="m1")
            assert fake.members[key]["status"] == "restricted"
            # not 0 (forever): the shortest end Telegram keeps, 30 s from now, and 10 s more
            assert fake.members[key]["until_date"] == int(clock.now().timestamp()) + 40

            clock.advance(timedelta(minutes=5))  # this one's end passed before it went out
            calls = len(fake.calls("restrictChatMember"))
            done = await adapter.perform(mute, idempotency_key="m2")
            assert done.data == {"expired": True}
            assert len(fake.calls("restrictChatMember")) == calls

            ban = act(ActionKind.BAN, user_id="501", until=clock.now() + timedelta(days=1))
            clock.advance(timedelta(days=1, minutes=1))
            assert (await adapter.perform(ban, idempotency_key="b1")).data == {"expired": True}
            assert not fake.calls("banChatMember")
            soon = act(ActionKind.BAN, user_id="501", until=clock.now() + timedelta(seconds=5))
            await adapter.perform(soon, idempotency_key="b2")
            assert fake.members[key]["status"] == "kicked"
            assert fake.members[key]["until_date"] == int(clock.now().timestamp()) + 40
            # no end at all is still for ever
            await adapter.perform(act(ActionKind.BAN, user_id="501"), idempotency_key="b3")
            assert fake.members[key]["until_date"] == 0

    run(go())


def test_a_late_mute_arriving_a_second_later_is_still_not_forever(
    make_app: Callable[..., App],
) -> None:
    """The Bot API takes whole seconds and Telegram reads the end against its own clock when
    the request arrives: with Telegram's clock a second ahead (time on the way, clocks apart)
    an end sent exactly 30 s ahead reads 29 s, forever. groupops leaves a margin."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.now = lambda: clock.now() + timedelta(seconds=1, milliseconds=300)
            fake.join(GROUP, ALICE)
            key = (GROUP, 501)
            clock.advance(timedelta(microseconds=600_000))  # not on a whole second
            mute = act(ActionKind.MUTE, user_id="501", until=clock.now() + timedelta(seconds=3))
            await adapter.perform(mute, idempotency_key="m1")
            assert fake.members[key]["status"] == "restricted"
            assert fake.members[key]["until_date"] != 0  # not for ever
            ban = act(ActionKind.BAN, user_id="501", until=clock.now() + timedelta(seconds=31))
            await adapter.perform(ban, idempotency_key="b1")
            assert fake.members[key]["status"] == "kicked"
            assert fake.members[key]["until_date"] != 0

    run(go())


def test_deleting_a_message_already_gone_is_done(make_app: Callable[..., App]) -> None:
    """The spammer deleted it first, or another admin did: "message to delete not found" is
    what the action wanted, not a dead letter; a message the bot may not delete stays refused."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            mid = fake.post(GROUP, ALICE, "buy followers http://spam.example")
            fake.messages[(GROUP, mid)]["deleted"] = True  # its author was quicker
            done = await adapter.perform(
                act(ActionKind.DELETE, message_id=str(mid)), idempotency_key="d1"
            )
            assert done.data == {"already_gone": True}
            old = fake.post(GROUP, ALICE, "old")
            fake.messages[(GROUP, old)]["date"] -= 49 * 3600
            with pytest.raises(PlatformError) as refused:
                await adapter.perform(
                    act(ActionKind.DELETE, message_id=str(old)), idempotency_key="d2"
                )
            assert refused.value.permanent

    run(go())


def test_a_person_who_blocked_the_bot_gets_it_in_the_group(make_app: Callable[..., App]) -> None:
    """They started the bot, then blocked it: Telegram's 403 is the deliverer's cue to post
    the message in the group (RecipientUnreachable), and the bot stops writing to them."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.start_bot(ALICE)
            await adapter.poll_once()
            assert adapter.started("501")
            fake.blocked.add(501)
            dm = act(ActionKind.DIRECT_MESSAGE, user_id="501", text="the rules")
            with pytest.raises(RecipientUnreachable) as refused:
                await adapter.perform(dm, idempotency_key="dm1")
            assert "blocked" in refused.value.message
            assert not adapter.started("501")
            assert "501" not in adapter.store.load()[1].get("started", [])
            sends = len(fake.calls("sendMessage", ok_only=False))
            with pytest.raises(RecipientUnreachable):  # refused without asking Telegram again
                await adapter.perform(dm, idempotency_key="dm2")
            assert len(fake.calls("sendMessage", ok_only=False)) == sends

    run(go())


CHANNEL = {"id": -1001111111111, "title": "Study news", "type": "channel"}
TELEGRAM_SERVICE = {"id": 777000, "is_bot": False, "first_name": "Telegram"}


def test_linked_channel_posts_are_the_admins(make_app: Callable[..., App]) -> None:
    """A post of the group's linked channel, forwarded into the discussion group by Telegram,
    is the operator's own (moderation must not remove it as a member's ad); a member speaking
    as their own channel is not an admin."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.post(
                GROUP,
                TELEGRAM_SERVICE,
                "New lesson: https://example.org/lesson-3",
                sender_chat=CHANNEL,
                forward_origin={"type": "channel", "chat": CHANNEL, "message_id": 3, "date": 1},
                is_automatic_forward=True,
            )
            own = {"id": -1002222222222, "title": "Bob's deals", "type": "channel"}
            fake.post(GROUP, TELEGRAM_SERVICE, "cheap http://deals.example", sender_chat=own)
            await adapter.poll_once()

    run(go())
    post, member_channel = stored(app)
    assert post.user_id == str(CHANNEL["id"])
    assert post.payload["is_admin"] is True
    assert post.payload["data"]["automatic_forward"] is True
    assert member_channel.user_id == "-1002222222222"
    assert not member_channel.payload.get("is_admin")


def test_a_message_in_a_forum_topic_is_no_reply(make_app: Callable[..., App]) -> None:
    """In a forum, Telegram sets reply_to_message to the topic's creation message on every
    message of the topic: that is where it was posted, not a reply to the topic's creator."""
    app = make_app(features=())
    bob = FakeBotApi.person(502, "Bob")

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            topic = {
                "message_id": 7,
                "from": bob,
                "chat": fake.chats[GROUP],
                "date": 1,
                "message_thread_id": 7,
                "forum_topic_created": {"name": "Homework", "icon_color": 7322096},
                "is_topic_message": True,
            }
            in_topic = {"message_thread_id": 7, "is_topic_message": True}
            first = fake.post(GROUP, ALICE, "my answer", reply_to_message=topic, **in_topic)
            fake.post(
                GROUP, bob, "nice", reply_to_message=fake.messages[(GROUP, first)], **in_topic
            )
            await adapter.poll_once()

    run(go())
    posted, reply = stored(app)
    assert posted.reply_to_message_id == "" and not posted.payload.get("reply_to_user_id")
    assert posted.payload["data"]["topic_id"] == "7"
    assert reply.reply_to_message_id == posted.message_id
    assert reply.payload["reply_to_user_id"] == "501"


BASIC = -4001  # a basic group ...
SUPER = -1004001  # ... and the supergroup Telegram made of it


def test_a_group_upgraded_to_a_supergroup_stays_the_same_group(
    make_app: Callable[..., App],
) -> None:
    """Telegram upgrades a group (made public, join requests on, 200 members ...) to a
    supergroup with a new chat id: groupops keeps it as the same group (its settings, members
    and points), its events and actions follow it to the new chat."""
    app = make_app(features=())
    bob = FakeBotApi.person(502, "Bob")

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.join(BASIC, ALICE)
            before = fake.post(BASIC, ALICE, "hello")
            await adapter.poll_once()
            fake.migrate(BASIC, SUPER, by=ALICE)
            after = fake.post(SUPER, ALICE, "hello from the supergroup")
            fake.join(SUPER, bob)
            await adapter.poll_once()

            await adapter.perform(
                act(ActionKind.SEND, chat_id=BASIC, text="hi"), idempotency_key="s"
            )
            assert [m["text"] for m in fake.sent(SUPER)] == ["hi"]
            await adapter.perform(
                act(ActionKind.DELETE, chat_id=BASIC, message_id=str(after)), idempotency_key="d1"
            )
            assert fake.messages[(SUPER, after)]["deleted"]
            # a message of the old group is not in the new chat (whose ids start anew): never
            # delete whatever the new chat numbers the same
            with pytest.raises(PlatformError) as old:
                await adapter.perform(
                    act(ActionKind.DELETE, chat_id=BASIC, message_id=str(before)),
                    idempotency_key="d2",
                )
            assert old.value.permanent and "before the group became" in old.value.message
            assert len(fake.calls("deleteMessage", ok_only=False)) == 1
            assert adapter.store.load()[1]["migrated"] == {str(BASIC): str(SUPER)}

    run(go())
    rows = stored(app)
    assert [(r.kind, r.chat_id) for r in rows] == [
        ("member_joined", str(BASIC)),
        ("message", str(BASIC)),
        ("message", str(BASIC)),  # posted in the supergroup
        ("member_joined", str(BASIC)),
    ]
    with app.db.connect() as conn:
        chats = conn.execute(select(groups.c.chat_id).where(groups.c.source == SOURCE)).scalars()
        assert list(chats) == [str(BASIC)]


def test_the_bots_join_in_the_new_supergroup_before_the_notice_makes_no_second_group(
    make_app: Callable[..., App],
) -> None:
    """On an upgrade Telegram also tells the bot it was added to the new supergroup, and over a
    webhook (each update on its own) that can come before the notice naming the old group: it
    is held back a while, so it never reaches the engine as a group of its own; a supergroup
    the bot is really added to gets its bot_rights_changed once the while is over."""
    from groupops.platforms.telegram.updates import LEAVE_GRACE

    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)
    fresh = -1004002

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.post(BASIC, ALICE, "before")
            await adapter.poll_once()
            fake.add_chat(SUPER, "Study group", bot=False)
            fake.bot_rights(SUPER, ALICE, status="administrator")  # the bot's join, first
            fake.migrate(BASIC, SUPER, by=ALICE)
            for update in list(fake.updates):  # one at a time, as the webhook hands them over
                if update["update_id"] >= (adapter.offset or 0):
                    await adapter.process([update])
            fake.add_chat(fresh, "A new supergroup", bot=False)
            fake.bot_rights(fresh, ALICE, status="administrator")
            await adapter.poll_once()
            assert str(fresh) not in {r.chat_id for r in stored(app)}  # held a while
            clock.advance(timedelta(seconds=LEAVE_GRACE + 1))
            await adapter.poll_once()

    run(go())
    with app.db.connect() as conn:
        chats = set(
            conn.execute(select(groups.c.chat_id).where(groups.c.source == SOURCE)).scalars()
        )
    assert chats == {str(BASIC), str(fresh)}
    assert [r.kind for r in stored(app) if r.chat_id == str(fresh)] == ["bot_rights_changed"]


def test_a_message_of_the_supergroup_numbered_as_one_of_the_old_group_is_removed(
    make_app: Callable[..., App],
) -> None:
    """The supergroup numbers its messages anew, so its spam can carry the number of a message
    the bot saw in the old group: the removal must go to the supergroup, not be refused as a
    message from before the upgrade."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.join(BASIC, ALICE)
            for text in ("one", "two", "three", "four"):
                fake.post(BASIC, ALICE, text)
            await adapter.poll_once()
            fake.migrate(BASIC, SUPER, by=ALICE)
            spam = fake.post(SUPER, ALICE, "buy followers http://spam.example")
            await adapter.poll_once()
            assert adapter.translator.sent_at(str(BASIC), str(spam)) is not None  # the same no.
            await adapter.perform(
                act(ActionKind.DELETE, chat_id=BASIC, message_id=str(spam)), idempotency_key="d"
            )
            assert fake.messages[(SUPER, spam)]["deleted"]

    run(go())


def test_an_action_refused_as_migrated_goes_to_the_supergroup(
    make_app: Callable[..., App],
) -> None:
    """The bot had not heard of the upgrade yet (it was down, the update is still queued):
    Telegram's 400 with migrate_to_chat_id sends the action to the new chat at once, and every
    later one, after a restart too."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.add_chat(BASIC, "Study group", kind="group")
            fake.migrate(BASIC, SUPER, by=ALICE)
            sent = await adapter.perform(
                act(ActionKind.SEND, chat_id=BASIC, text="check-in time"), idempotency_key="s1"
            )
            assert sent.data == {"chat_id": str(SUPER)}
            assert [m["text"] for m in fake.sent(SUPER)] == ["check-in time"]
            assert adapter.store.load()[1]["migrated"] == {str(BASIC): str(SUPER)}
            await adapter.close()
            adapter._state = {}
            await adapter.connect()  # a restart: the state comes back from the database
            await adapter.perform(
                act(ActionKind.SEND, chat_id=BASIC, text="again"), idempotency_key="s2"
            )
            assert [m["text"] for m in fake.sent(SUPER)] == ["check-in time", "again"]
            assert len(fake.calls("sendMessage", ok_only=False)) == 3  # one refused, two sent

    run(go())


def test_service_messages_are_no_members_messages(make_app: Callable[..., App]) -> None:
    """A giveaway ended, a shared contact picker, a gift ...: Telegram's service messages of
    newer Bot API versions are not a member speaking (they counted as activity of kind other)."""
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.post(GROUP, ALICE, giveaway_completed={"winner_count": 3})
            fake.post(GROUP, ALICE, users_shared={"request_id": 1, "users": []})
            fake.post(GROUP, ALICE, general_forum_topic_hidden={})
            fake.post(GROUP, ALICE, "a real message")
            await adapter.poll_once()

    run(go())
    assert [r.text for r in stored(app)] == ["a real message"]


def test_a_channel_speaking_in_the_group_is_banned_as_a_chat(
    make_app: Callable[..., App],
) -> None:
    """A member posting as their own channel has the channel's (negative) id as user id:
    Telegram bans it with banChatSenderChat; a mute or kick of it is refused, saying why,
    rather than sent to restrictChatMember as if it were a person."""
    app = make_app(features=())
    channel = "-1002222222222"

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            await adapter.perform(act(ActionKind.BAN, user_id=channel), idempotency_key="b")
            assert fake.banned_sender_chats == {(GROUP, int(channel))}
            assert not fake.calls("banChatMember", ok_only=False)
            await adapter.perform(act(ActionKind.UNBAN, user_id=channel), idempotency_key="u")
            assert fake.banned_sender_chats == set()
            for kind in (ActionKind.MUTE, ActionKind.KICK):
                with pytest.raises(PlatformError) as refused:
                    await adapter.perform(act(kind, user_id=channel), idempotency_key=kind)
                assert refused.value.permanent and "only ban it" in refused.value.message
            assert not fake.calls("restrictChatMember", ok_only=False)

    run(go())


def test_a_channel_is_never_banned_for_good_by_a_ban_meant_to_end(
    make_app: Callable[..., App],
) -> None:
    """banChatSenderChat has no until_date: a ban with an end, sent so, would ban the channel
    for good. Refused saying why; one whose end has passed is nothing to do, as for a person."""
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)
    channel = "-1002222222222"

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            timed = act(ActionKind.BAN, user_id=channel, until=clock.now() + timedelta(hours=1))
            with pytest.raises(PlatformError) as refused:
                await adapter.perform(timed, idempotency_key="b1")
            assert refused.value.permanent and "for good only" in refused.value.message
            clock.advance(timedelta(hours=2))
            assert (await adapter.perform(timed, idempotency_key="b2")).data == {"expired": True}
            assert fake.banned_sender_chats == set()
            assert not fake.calls("banChatSenderChat", ok_only=False)

    run(go())


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_long_text_is_sent_in_parts(make_app: Callable[..., App]) -> None:
    """Telegram refuses a text over 4,096 characters ("message is too long"): a long rules
    text or leaderboard goes out as several messages, cut at paragraph breaks, in order; the
    reply is the first, the buttons go with the last, and the result names every message."""
    app = make_app(features=())
    paragraph = "Rule: be kind to each other 🙂 and keep to the topic. " * 30  # ~1,650 units
    rules = "\n\n".join(f"{i}. {paragraph.strip()}" for i in range(1, 7))  # ~9,700
    assert _units(rules) > 2 * 4096
    buttons = [[{"text": "I agree", "data": "agree"}]]

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            asked = fake.post(GROUP, ALICE, "what are the rules?")
            reply = act(
                ActionKind.REPLY, message_id=str(asked), text=rules, data={"buttons": buttons}
            )
            result = await adapter.perform(reply, idempotency_key="r1")
            sent = fake.sent(GROUP)
            assert len(sent) == 3
            assert all(_units(m["text"]) <= 4096 for m in sent)
            assert "\n\n".join(m["text"] for m in sent) == rules  # cut between paragraphs
            assert result.data["message_ids"] == [str(m["message_id"]) for m in sent]
            assert result.platform_message_id == str(sent[0]["message_id"])
            assert sent[0]["reply_to_message"]["message_id"] == asked
            assert "reply_to_message" not in sent[1] and "reply_to_message" not in sent[2]
            assert [bool(m.get("reply_markup")) for m in sent] == [False, False, True]
            # a text that fits is one message, as before
            short = await adapter.perform(act(ActionKind.SEND, text="hi"), idempotency_key="s")
            assert short.data == {"chat_id": str(GROUP)}

    run(go())


def test_a_long_text_half_sent_is_finished_not_repeated(make_app: Callable[..., App]) -> None:
    """A rate limit between two parts: the retry of the action sends the parts still missing,
    not the whole text again. A direct message is cut the same way."""
    app = make_app(features=())
    text = "\n".join(f"line {i}: " + "数据" * 40 for i in range(100))  # ~8,900 units

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.start_bot(ALICE)
            await adapter.poll_once()
            fake.fail("429", 1, {"sendMessage"}, retry_after=1, after=1)
            dm = act(ActionKind.DIRECT_MESSAGE, user_id="501", text=text)
            with pytest.raises(PlatformError) as limited:
                await adapter.perform(dm, idempotency_key="dm1")
            assert limited.value.retry_after == 1
            result = await adapter.perform(dm, idempotency_key="dm1")
            sent = [r.params["text"] for r in fake.calls("sendMessage")]
            assert len(sent) == 3 and all(_units(t) <= 4096 for t in sent)
            assert "\n".join(sent) == text  # each part once, cut at line breaks
            assert len(result.data["message_ids"]) == 3

    run(go())


def test_split_message_never_cuts_a_character() -> None:
    """No paragraph, line, sentence or space to cut at: as many characters as fit, never half
    of an emoji (two UTF-16 units); Chinese sentences are cut after their full stop."""
    from groupops.platforms.telegram.split import split_message

    emojis = "🙂" * 3000  # 6,000 units, one unbroken run
    parts = split_message(emojis)
    assert [_units(p) for p in parts] == [4096, 6000 - 4096]
    assert "".join(parts) == emojis
    chinese = "今天的打卡已经开始了。" * 500  # 5,500 units, no spaces
    parts = split_message(chinese)
    assert all(p.endswith("。") and _units(p) <= 4096 for p in parts)
    assert "".join(parts) == chinese
    sentences = "One sentence here. " * 300
    parts = split_message(sentences)
    assert all(p.endswith(".") and _units(p) <= 4096 for p in parts)
    assert " ".join(parts) == sentences.strip()
    exact = "x" * 4096
    assert split_message(exact) == [exact]
    with pytest.raises(ValueError, match="limit of 1"):
        split_message("ab", 1)
