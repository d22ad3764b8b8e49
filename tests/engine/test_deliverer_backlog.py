"""A huge backlog in one chat (a raid's 10,000 queued welcomes) holds up no other chat's action
and none of its own protective ones: the queue is read fairly across chats, a bounded number
of rows at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import pytest

from groupops.engine import delivery_order
from groupops.engine.app import App
from groupops.engine.delivery_order import QueueRead
from tests.engine.test_deliver_overtaking import TIGHT, sent, setup, waiting
from tests.engine.test_engine import msg

BACKLOG = 10_000


def backlog(app: App, step: str = "send", n: int = BACKLOG, chat: str = "g1") -> None:
    """``n`` actions queued in ``chat`` by ten messages (e1..e10), ``step`` each."""
    per = n // 10
    app.handle([msg(i, ";".join([step] * per), source="flaky", chat=chat) for i in range(1, 11)])


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many rows each read of the queue brought into memory."""
    sizes: list[int] = []
    read_queue = delivery_order.read_queue

    def counted(*args: object, **kw: object) -> QueueRead:
        read = read_queue(*args, **kw)  # type: ignore[arg-type]
        sizes.append(len(read.rows))
        return read

    monkeypatch.setattr(delivery_order, "read_queue", counted)
    yield sizes


def deliver(app: App) -> int:
    return asyncio.run(app.deliverer.deliver_due())


def test_a_backlog_in_one_chat_holds_up_no_other_chat(
    make_app: Callable[..., App], reads: list[int]
) -> None:
    app, adapter, _clock, mono = setup(make_app, TIGHT)  # a group takes a message every 3 s
    backlog(app)
    app.handle([msg(100, "send", source="flaky", chat="g2")])
    # g2's welcome goes at once, not in 55 hours behind g1's 10,000 (it was not even read while
    # g1 had more than 4,000 queued)
    assert deliver(app) == 2
    assert sent(adapter) == ["e1 send", "e100 send"]
    # each round: g1's next message (its pace) and what g2 was given meanwhile, whichever the
    # backlog's size
    for n in range(101, 104):
        mono.now += 3
        app.handle([msg(n, "send", source="flaky", chat="g2")])
        assert deliver(app) == 2
        assert sent(adapter)[-2:] == ["e1 send", f"e{n} send"]
    assert len(waiting(app)) == BACKLOG - 4
    # what a read holds in memory does not grow with the backlog: a chat's window (50), its
    # protective actions (none here) and the other chats'
    assert max(reads) <= 60


def test_a_chats_protective_actions_do_not_wait_behind_its_own_backlog(
    make_app: Callable[..., App], reads: list[int]
) -> None:
    app, adapter, _clock, _mono = setup(make_app, TIGHT)
    # the bot's replies to a spam wave: a backlog of replies (those a delete may wait for, so
    # read past the read's end too: 4,000 of them filled that read, and the mute was not in it)
    backlog(app, "reply:9999")
    app.handle([msg(100, "mute;kick;delete:100", source="flaky", user="u100")])
    assert deliver(app) == 4
    assert sent(adapter) == ["e100 mute", "e100 kick", "e100 delete:100", "e1 reply:9999"]
    assert max(reads) <= 60


def test_a_removal_past_the_backlog_waits_for_the_message_put_to_that_member(
    make_app: Callable[..., App],
) -> None:
    """The join gate's time-out kick never goes before its question, wherever the two are in
    the queue: past a read of a long backlog too (the question was not read there, so the
    kick went). A removal of someone else still overtakes the backlog."""
    app, adapter, _clock, _mono = setup(make_app, TIGHT)
    backlog(app)
    app.handle([msg(200, "kick", source="flaky", user="u4")])
    app.handle([msg(201, "ask", source="flaky", user="u3")])
    app.handle([msg(202, "kick", source="flaky", user="u3")])
    app.handle([msg(203, "ban", source="flaky", user="u5")])  # behind the kick: waits too
    assert deliver(app) == 2
    assert sent(adapter) == ["e200 kick", "e1 send"]
    assert waiting(app)[-3:] == ["e201 ask", "e202 kick", "e203 ban"]


def test_past_the_messages_it_read_for_the_removals_none_goes(
    make_app: Callable[..., App],
) -> None:
    """Of the messages that name what removals past a backlog name, a read takes 50: the
    removals after the last one it took wait, whether or not a message not read names them."""
    app, adapter, _clock, _mono = setup(make_app, TIGHT)
    app.handle([msg(i, "send", source="flaky") for i in range(1, 61)])
    app.handle([msg(100, ";".join(["ask"] * 50), source="flaky", user="ua")])
    app.handle([msg(101, "ask", source="flaky", user="ub")])
    app.handle([msg(102, "kick", source="flaky", user="ub")])  # after the 51st: not read
    app.handle([msg(103, "kick", source="flaky", user="ua")])
    assert asyncio.run(app.deliverer.deliver_due(limit=2)) == 1  # a read of 40 rows
    assert sent(adapter) == ["e1 send"]
