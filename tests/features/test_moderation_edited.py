"""A message edited into an ad loses what its original text earned: moderation removes it for
the edit, and the points, check-in day and introduction the message earned before are taken
back, with the bot's replies to it (the check-in's reply quoting the goal) — once, however often
it is edited; an edit that is no ad, an admin's edit, or an edit of a message the bot never
counted takes nothing back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from groupops.domain.actions import ActionKind
from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.engine.context import REMOVED_BY_MODERATION
from groupops.engine.withdraw import WITHDRAWN
from groupops.features.checkin.days import member_checkins
from groupops.features.points.boards import member_points
from groupops.features.points.tables import points_ledger
from groupops.storage.tables import events, memberships, outbox
from tests.features.checkin_helpers import CHECKIN, POINTS
from tests.features.helpers import group_and_member
from tests.features.test_moderation import Community, new_community

INTRO = "大家好，我是做课程设计的，来这里学习 Python"
CHECK_IN = "打卡 今天读了20页"
AD = "打卡 加微信 abc123"
#: a cross-group spam check-in (found out by its third copy)
SPAM = "打卡 特价课程限时五折快来抢购名额有限"


@pytest.fixture
def community(make_app: Callable[..., App]) -> Iterator[Community]:
    """Group g1 with moderation, welcome, check-in and points; Ann (u1) and an admin."""
    c = new_community(make_app, (CHECKIN, POINTS), language="zh_CN", chats=("g1",))
    c.join("g1", "u1", "Ann")
    c.join("g1", "boss", "Boss", admin=True)
    yield c


def _edit(c: Community, original: Event, text: str, n: int = 1) -> Event:
    """The member's edit ``n`` of ``original``, now reading ``text``."""
    return Event(
        "sandbox",
        f"edit-{original.message_id}-{n}",
        EventKind.MESSAGE_EDITED,
        c.clock.now(),
        chat_id=original.chat_id,
        user_id=original.user_id,
        user_name=original.user_name,
        message_id=original.message_id,
        text=text,
        is_admin=original.is_admin,
    )


def _state(c: Community, user: str = "u1") -> dict[str, Any]:
    """The member's introduction time, check-in days, points and ledger lines in g1."""
    with c.app.db.connect() as conn:
        gid, mid = group_and_member(conn, "g1", user)
        intro = conn.execute(
            select(memberships.c.introduced_at).where(
                memberships.c.group_id == gid, memberships.c.member_id == mid
            )
        ).scalar_one()
        checkins = member_checkins(conn, gid, mid) or {}
        balance = member_points(conn, gid, mid)
        ledger = conn.execute(
            select(points_ledger.c.points, points_ledger.c.reason)
            .where(points_ledger.c.group_id == gid, points_ledger.c.member_id == mid)
            .order_by(points_ledger.c.id)
        ).all()
    return {
        "intro": intro,
        "days": checkins.get("total", 0),
        "points": int(balance["points"]) if balance else 0,
        "ledger": [tuple(r) for r in ledger],
    }


def _removals(c: Community) -> list[str]:
    """The message ids moderation's derived removals name."""
    with c.app.db.connect() as conn:
        rows = conn.execute(
            select(events.c.message_id, events.c.payload).where(
                events.c.kind == EventKind.MESSAGE_DELETED.value
            )
        ).all()
    return [
        str(r.message_id)
        for r in rows
        if ((r.payload or {}).get("data") or {}).get("by") == REMOVED_BY_MODERATION
    ]


def _replies(c: Community, goal: str = "今天读了20页") -> list[Any]:
    """The bot's check-in replies in g1's outbox quoting ``goal``."""
    with c.app.db.connect() as conn:
        rows = conn.execute(
            select(outbox.c.id, outbox.c.kind, outbox.c.status, outbox.c.payload, outbox.c.result)
            .where(outbox.c.chat_id == "g1")
            .order_by(outbox.c.id)
        ).all()
    return [r for r in rows if r.kind == "reply" and goal in r.payload.get("text", "")]


def _deletes_of(c: Community, platform_id: str) -> int:
    with c.app.db.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.kind == "delete")).all()
    return sum(1 for r in rows if r.payload.get("message_id") == platform_id)


def test_a_message_edited_into_an_ad_loses_its_points_and_introduction(
    community: Community,
) -> None:
    c = community
    hello = c.post("g1", "u1", INTRO)
    assert _state(c) == {
        "intro": hello.occurred_at,
        "days": 0,
        "points": 1,
        "ledger": [(1, "message")],
    }
    c.app.handle([_edit(c, hello, "想要资料的加我微信 abc123")])

    [decision] = c.decisions()
    assert decision.rule == "contact"
    assert _removals(c) == [hello.message_id]
    assert _state(c) == {
        "intro": None,
        "days": 0,
        "points": 0,
        "ledger": [(1, "message"), (-1, "removed")],
    }
    # no longer introduced: the next real message is the introduction
    c.clock.advance(60)
    again = c.post("g1", "u1", INTRO)
    assert _state(c)["intro"] == again.occurred_at


def test_a_checkin_edited_into_an_ad_loses_its_day_and_reply(community: Community) -> None:
    c = community
    checkin = c.post("g1", "u1", CHECK_IN)
    before = _state(c)
    assert (before["days"], before["points"]) == (1, 5)
    c.deliver()  # the reply quoting the goal is posted in g1
    [reply] = _replies(c)
    assert reply.status == "delivered"
    platform_id = str(reply.result["platform_message_id"])

    c.app.handle([_edit(c, checkin, AD)])
    assert _state(c) == {
        "intro": None,
        "days": 0,
        "points": 0,
        "ledger": [(5, "checkin"), (-5, "removed")],
    }
    assert _deletes_of(c, platform_id) == 1  # the bot's reply goes too
    c.deliver()
    lines = [m for m in c.app.sandbox.messages("g1") if m.user_id == "bot" and m.kind == "message"]
    assert [m.deleted for m in lines if "今天读了20页" in (m.text or "")] == [True]
    [member_message] = [m for m in c.app.sandbox.messages("g1") if m.text == CHECK_IN]
    assert member_message.deleted  # moderation's delete of the member's message

    # the day is free again: an honest check-in counts again
    c.clock.advance(60)
    c.post("g1", "u1", "打卡 今天读了25页")
    assert (_state(c)["days"], _state(c)["points"]) == (1, 5)


def test_a_reply_not_sent_yet_is_withdrawn(community: Community) -> None:
    c = community
    checkin = c.post("g1", "u1", CHECK_IN)
    c.app.handle([_edit(c, checkin, AD)])
    assert [r.status for r in _replies(c)] == [WITHDRAWN]
    assert _state(c)["days"] == 0


@pytest.mark.parametrize("together", [False, True], ids=["two-batches", "one-batch"])
def test_an_ad_edited_again_is_taken_back_once(community: Community, together: bool) -> None:
    c = community
    checkin = c.post("g1", "u1", CHECK_IN)
    c.deliver()
    [reply] = _replies(c)
    platform_id = str(reply.result["platform_message_id"])
    first, second = _edit(c, checkin, AD, 1), _edit(c, checkin, "打卡 加V abc123 领资料", 2)
    if together:
        c.app.handle([first, second])
    else:
        c.app.handle([first])
        c.deliver()
        c.clock.advance(30)
        second = _edit(c, checkin, "打卡 加V abc123 领资料", 2)
        c.app.handle([second])

    assert [d.rule for d in c.decisions()] == ["contact", "contact"]  # each edit is an offence
    assert _removals(c) == [checkin.message_id]
    assert _state(c)["ledger"] == [(5, "checkin"), (-5, "removed")]
    assert _state(c)["points"] == 0
    assert _deletes_of(c, platform_id) == 1  # the bot's reply deleted once


def test_a_copy_removed_already_is_not_taken_back_again_when_edited(
    make_app: Callable[..., App],
) -> None:
    """The removal's id is the message's, whichever way moderation found it: a cross-group
    copy taken back already, then edited into another ad, is not taken back twice."""
    c = new_community(make_app, (CHECKIN, POINTS), language="zh_CN")
    for chat in ("g1", "g2", "g3"):
        c.join(chat, "u1", "Ann")
    first = c.post("g1", "u1", SPAM)
    c.deliver()
    [reply] = _replies(c, "特价课程")
    platform_id = str(reply.result["platform_message_id"])
    c.post("g2", "u1", SPAM)
    c.post("g3", "u1", SPAM)  # the third copy: the earlier ones removed, g1's taken back
    assert _state(c)["ledger"] == [(5, "checkin"), (-5, "removed")]
    assert _deletes_of(c, platform_id) == 1
    c.deliver()

    c.app.handle([_edit(c, first, AD)])
    assert [d.rule for d in c.decisions()] == ["cross_group", "contact"]
    assert _state(c)["ledger"] == [(5, "checkin"), (-5, "removed")]
    assert _deletes_of(c, platform_id) == 1
    assert _removals(c).count(first.message_id) == 1


def test_an_edited_ad_kept_in_the_group_loses_what_it_earned(community: Community) -> None:
    """With ``delete_offending_message`` off the edited ad stays, warned, and earns nothing, as
    a new ad kept in the group does."""
    c = community
    c.configure(delete_offending_message=False)
    checkin = c.post("g1", "u1", CHECK_IN)
    c.app.handle([_edit(c, checkin, AD)])
    assert [d.step for d in c.decisions()] == ["warn"]
    assert c.actions(ActionKind.DELETE) == []
    assert _state(c)["ledger"] == [(5, "checkin"), (-5, "removed")]
    assert [r.status for r in _replies(c)] == [WITHDRAWN]


def test_an_edit_that_is_no_ad_changes_nothing(community: Community) -> None:
    c = community
    checkin = c.post("g1", "u1", CHECK_IN)
    c.deliver()
    before = _state(c)
    c.app.handle([_edit(c, checkin, "打卡 今天读了30页")])
    assert c.decisions() == []
    assert _removals(c) == []
    assert _state(c) == before
    assert [r.status for r in _replies(c)] == ["delivered"]


def test_an_edit_in_the_batch_of_its_message_was_never_counted(community: Community) -> None:
    c = community
    checkin = c.app.sandbox.post("g1", "u1", CHECK_IN)
    c.app.handle([checkin, _edit(c, checkin, AD)])
    assert [d.rule for d in c.decisions()] == ["contact"]
    assert _state(c) == {"intro": None, "days": 0, "points": 0, "ledger": []}
    assert _replies(c) == []
    assert _removals(c) == []  # nothing was counted: nothing to take back


def test_an_edit_of_a_message_never_stored_takes_nothing_back(community: Community) -> None:
    """A message from before the bot was there: removed, but nothing of it was counted."""
    c = community
    c.post("g1", "u1", CHECK_IN)
    before = _state(c)
    unknown = Event(
        "sandbox",
        "old",
        EventKind.MESSAGE,
        c.clock.now(),
        chat_id="g1",
        user_id="u1",
        message_id="from-before",
    )
    c.app.handle([_edit(c, unknown, AD)])
    assert [d.rule for d in c.decisions()] == ["contact"]
    assert _removals(c) == []
    assert _state(c) == before


def test_an_admins_edit_is_exempt(community: Community) -> None:
    c = community
    checkin = c.post("g1", "boss", CHECK_IN)
    before = _state(c, "boss")
    assert before["days"] == 1
    c.app.handle([_edit(c, checkin, AD)])
    assert c.decisions() == []
    assert _removals(c) == []
    assert _state(c, "boss") == before
