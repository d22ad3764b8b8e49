"""The deliverer's per-chat limit is for messages only, and protective actions (delete, mute,
kick, ban and their undo) go before a chat's queued messages, keeping what depends on order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import ClassVar

from sqlalchemy import Connection, select

from groupops.domain.actions import ADDRESSES, ANNOUNCES, Action, ActionKind
from groupops.domain.events import EventKind
from groupops.engine.app import App
from groupops.engine.clock import ManualClock
from groupops.engine.context import BatchContext, Incoming
from groupops.engine.deliverer import RetryPolicy
from groupops.features.base import FeatureSettings
from groupops.platforms.base import RateLimits
from groupops.storage.tables import outbox
from tests.engine.fakes import FlakyAdapter
from tests.engine.test_engine import msg
from tests.helpers import until

SCRIPT = "tests.engine.test_deliver_overtaking:ScriptFeature"
#: Telegram's shape: the bot's whole rate is plenty, a group takes one message every 3 s
TIGHT = RateLimits(per_second=1000, per_chat_per_minute=20, burst=1)


class ScriptFeature:
    """Emits what a message says, ';' between actions: 'send', 'reply:7', 'delete:7', 'mute',
    'unmute', 'kick', 'ban', 'dm', 'pin:7', 'announce:mute' (a send announcing a mute), 'ask' (a
    send put to the message's author, as the join gate's question)."""

    name: ClassVar[str] = "script"
    order: ClassVar[int] = 50
    settings_model: ClassVar[type[FeatureSettings]] = FeatureSettings
    handles: ClassVar[frozenset[EventKind]] = frozenset({EventKind.MESSAGE})

    def handle(self, ctx: BatchContext, batch: Sequence[Incoming]) -> None:
        for item in batch:
            e = item.event
            for step in e.text.split(";"):
                word, _, arg = step.partition(":")
                kind = {
                    "announce": ActionKind.SEND,
                    "ask": ActionKind.SEND,
                    "dm": ActionKind.DIRECT_MESSAGE,
                }.get(word)
                kind = kind or ActionKind(word)
                action = Action(
                    kind,
                    e.source,
                    e.chat_id,
                    user_id=e.user_id if kind not in (ActionKind.SEND, ActionKind.PIN) else "",
                    text=f"{e.event_id} {step}",
                    message_id=arg
                    if kind in (ActionKind.REPLY, ActionKind.DELETE, ActionKind.PIN)
                    else "",
                    data={ANNOUNCES: arg}
                    if word == "announce"
                    else {ADDRESSES: e.user_id}
                    if word == "ask"
                    else {},
                )
                ctx.emit(action, item)

    def delete_member_data(self, conn: Connection, member_id: int) -> None:
        return None


class Mono:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def setup(
    make_app: Callable[..., App], limits: RateLimits = TIGHT
) -> tuple[App, FlakyAdapter, ManualClock, Mono]:
    app = make_app(features=(SCRIPT,), retry=RetryPolicy(max_attempts=3, base_backoff=2))
    adapter = FlakyAdapter("flaky", limits=limits)
    app.platforms.add(adapter)
    mono = Mono()
    app.deliverer.monotonic = mono
    assert isinstance(app.clock, ManualClock)
    return app, adapter, app.clock, mono


def deliver(app: App, limit: int = 200) -> int:
    return asyncio.run(app.deliverer.deliver_due(limit))


def sent(adapter: FlakyAdapter) -> list[str]:
    return [a.text for _, a in adapter.sent]


def waiting(app: App) -> list[str]:
    with app.db.connect() as conn:
        rows = conn.execute(
            select(outbox.c.payload)
            .where(outbox.c.status.in_(("pending", "sending")))
            .order_by(outbox.c.id)
        ).all()
    return [r.payload["text"] for r in rows]


def test_only_actions_that_post_take_the_chats_tokens(make_app: Callable[..., App]) -> None:
    app, _adapter, _clock, mono = setup(make_app)
    app.handle([msg(1, "send;dm;send;delete:1;mute;kick;ban;unban;unmute", source="flaky")])
    # one message is the group's burst; removals, restrictions and a private message use
    # only the bot's rate (they were throttled with the messages: one action every 3 s)
    assert deliver(app) == 8
    assert waiting(app) == ["e1 send"]
    mono.now += 3
    assert deliver(app) == 1
    assert waiting(app) == []


def test_a_pin_counts_as_a_message_in_the_group(make_app: Callable[..., App]) -> None:
    app, adapter, _clock, _mono = setup(make_app)
    app.handle([msg(1, "pin:1;send", source="flaky")])
    assert deliver(app) == 1
    assert sent(adapter) == ["e1 pin:1"]


def test_a_mute_goes_before_the_messages_queued_ahead_of_it(
    make_app: Callable[..., App],
) -> None:
    app, adapter, _clock, mono = setup(make_app)
    app.handle([msg(i, "send", source="flaky") for i in range(1, 6)])  # a join wave's welcomes
    assert deliver(app) == 1
    app.handle([msg(9, "mute;delete:9;announce:mute", source="flaky")])  # a raider
    assert deliver(app) == 2  # not 12 s from now, behind the four welcomes
    assert sent(adapter) == ["e1 send", "e9 mute", "e9 delete:9"]
    # the notice of the mute is a message: it keeps its place behind the welcomes
    assert waiting(app) == ["e2 send", "e3 send", "e4 send", "e5 send", "e9 announce:mute"]
    for _ in range(5):
        mono.now += 3
        assert deliver(app) == 1
    assert sent(adapter)[3:] == ["e2 send", "e3 send", "e4 send", "e5 send", "e9 announce:mute"]


def test_protective_actions_of_one_pass_are_sent_first(make_app: Callable[..., App]) -> None:
    app, adapter, _clock, _ = setup(make_app, RateLimits(per_second=1000, burst=100))
    app.handle([msg(1, "send;reply:1;mute;send;delete:9;delete:1;kick", source="flaky")])
    assert deliver(app) == 7
    # each kind in its order; the delete of the message a reply answers, and what comes after
    # it, stay behind that reply
    assert sent(adapter) == [
        "e1 mute",
        "e1 delete:9",
        "e1 send",
        "e1 reply:1",
        "e1 send",
        "e1 delete:1",
        "e1 kick",
    ]


def test_a_message_waiting_for_its_retry_holds_up_messages_only(
    make_app: Callable[..., App],
) -> None:
    app, adapter, clock, _ = setup(make_app, RateLimits(per_second=1000, burst=100))
    app.handle([msg(1, "send", source="flaky")])
    adapter.script = ["error"]
    assert deliver(app) == 0  # retried in 2 s
    app.handle([msg(2, "send;kick", source="flaky")])
    assert deliver(app) == 1
    assert sent(adapter) == ["e2 kick"]
    clock.advance(2)
    assert deliver(app) == 2
    assert sent(adapter)[1:] == ["e1 send", "e2 send"]


def test_nothing_goes_before_an_earlier_protective_action(make_app: Callable[..., App]) -> None:
    app, adapter, clock, _ = setup(make_app, RateLimits(per_second=1000, burst=100))
    app.handle([msg(1, "mute", source="flaky")])
    adapter.script = ["error"]
    assert deliver(app) == 0
    # an unmute never before its mute, a message never before the mute it may announce
    app.handle([msg(2, "unmute;announce:mute;delete:2", source="flaky")])
    assert deliver(app) == 0
    clock.advance(2)
    assert deliver(app) == 4
    assert sent(adapter) == ["e1 mute", "e2 unmute", "e2 delete:2", "e2 announce:mute"]


def test_a_delete_does_not_go_before_a_reply_to_its_message(
    make_app: Callable[..., App],
) -> None:
    app, adapter, _clock, mono = setup(make_app)
    # the reply waits for the group's next token; the delete of the message it answers waits
    # for it, and the protective actions after that delete wait for the delete; a delete of
    # another message overtakes
    app.handle([msg(1, "send;reply:1;delete:7;delete:1;mute", source="flaky")])
    assert deliver(app) == 2
    assert sent(adapter) == ["e1 delete:7", "e1 send"]
    mono.now += 3
    assert deliver(app) == 3
    assert sent(adapter)[2:] == ["e1 reply:1", "e1 delete:1", "e1 mute"]


def test_a_failed_protective_action_takes_its_notice_to_the_dead_letters(
    make_app: Callable[..., App],
) -> None:
    app, adapter, _clock, _mono = setup(make_app)
    app.handle([msg(1, "send;send", source="flaky")])
    app.handle([msg(2, "mute;announce:mute", source="flaky")])
    adapter.script = ["permanent"]  # the mute: sent first, refused for good
    assert deliver(app) == 1
    assert sent(adapter) == ["e1 send"]
    with app.db.connect() as conn:
        rows = conn.execute(select(outbox.c.status).order_by(outbox.c.id)).scalars().all()
    assert rows == ["delivered", "pending", "dead", "dead"]


def test_protective_actions_past_a_long_backlog_are_read_and_sent(
    make_app: Callable[..., App],
) -> None:
    app, adapter, _clock, _ = setup(make_app)
    app.handle([msg(i, "send", source="flaky") for i in range(1, 61)])
    app.handle([msg(100, "reply:5;delete:5;kick", source="flaky")])
    app.handle([msg(101, "delete:6;ban", source="flaky", chat="g2")])
    # a read of the queue takes 20 rows a chat it may send to (limit 2: 40 rows): the
    # protective actions after them are read on their own, with the replies and pins a
    # delete may wait for
    assert deliver(app, limit=2) == 3
    assert sent(adapter) == ["e1 send", "e101 delete:6", "e101 ban"]
    assert waiting(app)[-3:] == ["e100 reply:5", "e100 delete:5", "e100 kick"]


def test_a_mute_beyond_the_read_overtakes_a_backlog(make_app: Callable[..., App]) -> None:
    app, adapter, _clock, _ = setup(make_app)
    app.handle([msg(i, "send", source="flaky") for i in range(1, 61)])
    app.handle([msg(100, "mute;delete:100", source="flaky")])
    assert deliver(app, limit=2) == 3
    assert sent(adapter) == ["e100 mute", "e100 delete:100", "e1 send"]


def test_a_batch_hands_over_protective_actions_past_the_groups_limit(
    make_app: Callable[..., App],
) -> None:
    app, adapter, _clock, _ = setup(make_app)
    app.engine.hand_off_lease = app.deliverer.policy.lease
    result = app.handle([msg(1, "send;send;kick;ban", source="flaky")])
    assert len(result.handed) == 4
    assert asyncio.run(app.deliverer.deliver_due(scan=False)) == 3
    assert sent(adapter) == ["e1 kick", "e1 ban", "e1 send"]
    assert waiting(app) == ["e1 send"]  # back in the queue, its attempt not counted


def test_a_platforms_wait_after_a_delete_holds_the_whole_connection(
    make_app: Callable[..., App],
) -> None:
    app, adapter, clock, mono = setup(make_app, RateLimits(per_second=1000, burst=100))
    app.handle([msg(1, "delete:1", source="flaky")])
    adapter.script = ["retry_after:10"]
    assert deliver(app) == 0
    app.handle([msg(2, "send;mute", source="flaky", chat="g2")])
    assert deliver(app) == 0  # Telegram does not say what a wait is for: all of the bot waits
    clock.advance(10)
    mono.now += 11  # the bucket refilled past the pause
    assert deliver(app) == 3


def test_a_backlog_goes_out_at_the_bots_whole_rate_not_a_burst_per_idle_wait(
    make_app: Callable[..., App],
) -> None:
    """Live, a round the rate limits stopped is followed by one as soon as the next token is
    there: the bot's bucket holds a tenth of a second's worth (3 on Telegram), so waiting the
    idle time between rounds sent 3 actions per idle wait (6 a second), not 30 a second."""
    app = make_app(features=(SCRIPT,))
    adapter = FlakyAdapter("flaky", limits=RateLimits(per_second=30, burst=100))
    app.platforms.add(adapter)
    app.handle([msg(i, "kick", source="flaky", user=f"u{i}") for i in range(12)])  # a raid

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(app.deliverer.run(stop, idle=30))
        try:
            # 3 at once, 9 more at 27 a second: a third of a second, where the idle wait was
            # 30 s for each 3
            await until(lambda: len(adapter.sent) == 12, timeout=10, what="the 12 kicks")
        finally:
            stop.set()
            await task

    asyncio.run(scenario())


def test_a_removal_waits_for_the_message_put_to_that_member(make_app: Callable[..., App]) -> None:
    """The join gate's time-out kick never goes before the question it times out: after a join
    wave the questions wait for the group's limit, and a newcomer kicked before their question
    was even posted could not have answered it. A removal of someone else still overtakes."""
    app, adapter, _clock, mono = setup(make_app)
    app.handle([msg(1, "send", source="flaky")])  # the group's one message now
    app.handle([msg(2, "kick", source="flaky", user="u2")])
    app.handle([msg(3, "ask", source="flaky", user="u3")])
    app.handle([msg(4, "kick", source="flaky", user="u3")])
    assert deliver(app) == 2
    assert sent(adapter) == ["e2 kick", "e1 send"]
    assert waiting(app) == ["e3 ask", "e4 kick"]
    mono.now += 3
    assert deliver(app) == 2
    assert sent(adapter)[2:] == ["e3 ask", "e4 kick"]
