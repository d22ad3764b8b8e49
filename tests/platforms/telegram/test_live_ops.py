"""What a week of running live Telegram groups brings (QA live findings, /work/notes/qa-live.md):
mutes and bans delivered late, a group upgraded to a supergroup, the linked channel's posts,
messages already deleted, people who blocked the bot, forum topics."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from groupops.domain.actions import Action, ActionKind
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from tests.platforms.telegram.conftest import GROUP, run, telegram
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
            # not 0 (forever): the shortest end Telegram keeps, 30 s from now
            assert fake.members[key]["until_date"] == int(clock.now().timestamp()) + 30

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
            assert fake.members[key]["until_date"] == int(clock.now().timestamp()) + 30
            # no end at all is still for ever
            await adapter.perform(act(ActionKind.BAN, user_id="501"), idempotency_key="b3")
            assert fake.members[key]["until_date"] == 0

    run(go())
