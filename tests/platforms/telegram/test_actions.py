"""Every action the adapter declares, performed through python-telegram-bot against the fake
Bot API, and what the fake server then holds; refusals are typed and permanent."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from groupops.domain.actions import Action, ActionKind
from groupops.domain.errors import PlatformError
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.platforms.telegram import TELEGRAM_ACTIONS
from tests.platforms.telegram.conftest import GROUP, TOKEN, run, telegram
from tests.platforms.telegram.fake_bot_api import FakeBotApi

ALICE = FakeBotApi.person(501, "Alice")
SOURCE = "telegram:groupops_test_bot"


def act(kind: ActionKind, **kw: object) -> Action:
    return Action(kind, SOURCE, str(kw.pop("chat_id", GROUP)), **kw)  # type: ignore[arg-type]


def test_capabilities_declare_telegram_limits(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (_, adapter):
            caps = adapter.capabilities
            assert caps.actions == TELEGRAM_ACTIONS
            assert not caps.can(ActionKind.OWNER_TASK)
            assert caps.delete_max_age == 48 * 3600
            assert caps.buttons and caps.join_attribution
            assert caps.limits.per_second == 30
            # burst + a minute's refill never exceeds Telegram's 20 a minute in one group
            assert caps.limits.burst + caps.limits.per_chat_per_minute <= 20
            assert app.platforms.capabilities(SOURCE) is caps

    run(go())


def test_send_reply_with_buttons_plain_text(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            first = fake.post(GROUP, ALICE, "hi")
            name = "<b>Eve</b> & <a href='x'>"
            sent = await adapter.perform(
                act(
                    ActionKind.SEND,
                    text=f"Welcome {name}",
                    data={
                        "buttons": [[{"text": "1", "data": "q:1"}, {"text": "2", "data": "q:2"}]]
                    },
                ),
                idempotency_key="k1",
            )
            reply = await adapter.perform(
                act(ActionKind.REPLY, text="noted", message_id=str(first)), idempotency_key="k2"
            )
            msgs = fake.sent(GROUP)
            assert [m["text"] for m in msgs] == [f"Welcome {name}", "noted"]
            assert sent.platform_message_id == str(msgs[0]["message_id"])
            assert "parse_mode_used" not in msgs[0]  # plain text: a name cannot become markup
            assert msgs[0]["reply_markup"] == {
                "inline_keyboard": [
                    [{"text": "1", "callback_data": "q:1"}, {"text": "2", "callback_data": "q:2"}]
                ]
            }
            assert msgs[1]["reply_to_message"]["message_id"] == first
            assert reply.platform_message_id == str(msgs[1]["message_id"])
            with pytest.raises(PlatformError) as bad:
                await adapter.perform(
                    act(ActionKind.SEND, text="x", data={"buttons": [[{"text": "x"}]]}),
                    idempotency_key="k3",
                )
            assert bad.value.permanent

    run(go())


def test_moderation_actions(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    until = app.clock.now() + timedelta(hours=1)

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.join(GROUP, ALICE)
            mid = fake.post(GROUP, ALICE, "spam")
            key = (GROUP, 501)
            await adapter.perform(
                act(ActionKind.MUTE, user_id="501", until=until), idempotency_key="m"
            )
            assert fake.members[key]["status"] == "restricted"
            assert fake.members[key]["until_date"] == int(until.timestamp())
            assert fake.members[key]["permissions"]["can_send_messages"] is False
            await adapter.perform(act(ActionKind.UNMUTE, user_id="501"), idempotency_key="u")
            assert fake.members[key]["status"] == "member"
            await adapter.perform(act(ActionKind.DELETE, message_id=str(mid)), idempotency_key="d")
            assert fake.messages[(GROUP, mid)]["deleted"]
            await adapter.perform(act(ActionKind.PIN, message_id=str(mid)), idempotency_key="p")
            assert fake.pinned[GROUP] == mid
            await adapter.perform(act(ActionKind.KICK, user_id="501"), idempotency_key="k")
            assert fake.members[key]["status"] == "left"  # banned then unbanned: may come back
            assert [r.method for r in fake.requests[-2:]] == ["banChatMember", "unbanChatMember"]
            await adapter.perform(act(ActionKind.BAN, user_id="501"), idempotency_key="b")
            assert fake.members[key]["status"] == "kicked"
            await adapter.perform(act(ActionKind.UNBAN, user_id="501"), idempotency_key="ub")
            assert fake.members[key]["status"] == "left"

    run(go())


def test_join_requests_and_named_invite_links(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    bob = FakeBotApi.person(502, "Bob")

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            fake.request_join(GROUP, ALICE)
            fake.request_join(GROUP, bob)
            await adapter.perform(act(ActionKind.APPROVE_JOIN, user_id="501"), idempotency_key="a")
            await adapter.perform(act(ActionKind.DECLINE_JOIN, user_id="502"), idempotency_key="d")
            assert fake.members[(GROUP, 501)]["status"] == "member"
            assert (GROUP, 502) not in fake.members and not fake.join_requests
            with pytest.raises(PlatformError) as gone:  # no such request any more
                await adapter.perform(
                    act(ActionKind.APPROVE_JOIN, user_id="502"), idempotency_key="x"
                )
            assert gone.value.permanent
            made = await adapter.perform(
                act(ActionKind.CREATE_INVITE_LINK, data={"invite_name": "inviter:501"}),
                idempotency_key="l",
            )
            assert made.data["invite_link"].startswith("https://t.me/+")
            assert made.data["invite_name"] == "inviter:501"
            assert fake.invite_links[-1]["name"] == "inviter:501"

    run(go())


def test_direct_message_only_after_start(make_app: Callable[..., App]) -> None:
    app = make_app(features=())

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            dm = act(ActionKind.DIRECT_MESSAGE, user_id="501", text="your coupon")
            with pytest.raises(PlatformError) as refused:
                await adapter.perform(dm, idempotency_key="dm1")
            assert refused.value.permanent and "started" in refused.value.message
            assert not fake.calls("sendMessage")  # refused before asking Telegram
            fake.start_bot(ALICE)
            await adapter.poll_once()
            await adapter.perform(dm, idempotency_key="dm2")
            assert fake.sent(501)[-1]["text"] == "your coupon"

    run(go())


def test_delete_older_than_48_hours_is_refused(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    clock = app.clock
    assert isinstance(clock, ManualClock)

    async def go() -> None:
        async with telegram(app) as (fake, adapter):
            old = fake.post(GROUP, ALICE, "old news")
            await adapter.poll_once()  # the adapter sees the message (and its date)
            clock.advance(timedelta(hours=49))
            with pytest.raises(PlatformError) as refused:
                await adapter.perform(
                    act(ActionKind.DELETE, message_id=str(old)), idempotency_key="d"
                )
            assert refused.value.permanent and "48 hours" in refused.value.message
            assert not fake.calls("deleteMessage", ok_only=False)
            # one the adapter never saw: Telegram's own refusal is permanent too
            unseen = fake.post(GROUP, ALICE, "unseen")
            fake.messages[(GROUP, unseen)]["date"] -= 49 * 3600
            with pytest.raises(PlatformError) as told:
                await adapter.perform(
                    act(ActionKind.DELETE, message_id=str(unseen)), idempotency_key="d2"
                )
            assert told.value.permanent and "can't be deleted" in told.value.message
            assert TOKEN not in str(told.value)

    run(go())


def test_error_codes_map_to_retry_or_permanent(make_app: Callable[..., App]) -> None:
    app = make_app(features=())
    send = act(ActionKind.SEND, text="hello")

    async def go() -> None:
        async with telegram(app, request_timeout=0.5, hang_seconds=2.0) as (fake, adapter):
            fake.fail("429", 1, retry_after=7)
            with pytest.raises(PlatformError) as limited:
                await adapter.perform(send, idempotency_key="a")
            assert limited.value.retry_after == 7 and not limited.value.permanent
            for kind in ("500", "502", "timeout"):
                fake.fail(kind, 1)
                with pytest.raises(PlatformError) as failed:
                    await adapter.perform(send, idempotency_key="a")
                assert not failed.value.permanent and failed.value.retry_after is None, kind
                assert TOKEN not in str(failed.value)
            with pytest.raises(PlatformError) as missing:
                await adapter.perform(
                    act(ActionKind.SEND, chat_id="-100555", text="x"), idempotency_key="b"
                )
            assert missing.value.permanent and "chat not found" in missing.value.message.lower()
            await adapter.perform(send, idempotency_key="a")  # recovered
            assert [m["text"] for m in fake.sent(GROUP)] == ["hello"]

    run(go())
