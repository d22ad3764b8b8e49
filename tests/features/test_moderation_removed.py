"""A cross-group copy removed after the fact: the earlier copies, posted (and counted) in
earlier batches, earn no points and are no self-introduction once moderation finds the
third copy (QA zh finding 10), the same as an ad removed on arrival."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from groupops.domain.events import Event, EventKind
from groupops.engine.app import App
from groupops.features.points.boards import leaderboard, member_points
from groupops.features.points.tables import points_ledger
from groupops.storage.tables import memberships
from tests.features.helpers import group_and_member
from tests.features.test_moderation import Community, new_community

POINTS = "groupops.features.points:PointsFeature"
SPAM = "特价课程限时五折快来抢购名额有限"
CHATS = ("g1", "g2", "g3")


@pytest.fixture
def community(make_app: Callable[..., App]) -> Iterator[Community]:
    """Three sandbox groups of one workspace with moderation, welcome and points."""
    yield new_community(make_app, (POINTS,), language="zh_CN", chats=CHATS)


def _state(c: Community, chat: str, user: str) -> tuple[object, int, int]:
    """The member's introduction time, balance and month points in the group."""
    with c.app.db.connect() as conn:
        gid, mid = group_and_member(conn, chat, user)
        intro = conn.execute(
            select(memberships.c.introduced_at).where(
                memberships.c.group_id == gid, memberships.c.member_id == mid
            )
        ).scalar_one()
        balance = member_points(conn, gid, mid)
        board = leaderboard(conn, gid, "month", c.clock.now())
    month = next((int(r["points"]) for r in board if r["member_id"] == mid), 0)
    return intro, int(balance["points"]) if balance else 0, month


def test_earlier_copies_lose_their_point_and_introduction(community: Community) -> None:
    c = community
    for chat in CHATS:
        c.join(chat, "cg", "跨群哥")
    first = c.post("g1", "cg", SPAM)
    intro, points, month = _state(c, "g1", "cg")
    assert intro == first.occurred_at and (points, month) == (1, 1)  # counted, for now
    c.post("g2", "cg", SPAM)
    assert _state(c, "g2", "cg")[1] == 1
    c.post("g3", "cg", SPAM)  # the third copy: all three are removed

    [decision] = c.decisions()
    assert (decision.rule, decision.chat_id) == ("cross_group", "g3")
    for chat in CHATS:
        assert _state(c, chat, "cg") == (None, 0, 0), chat
    with c.app.db.connect() as conn:
        ledger = conn.execute(
            select(points_ledger.c.points, points_ledger.c.reason).order_by(points_ledger.c.id)
        ).all()
    assert [tuple(r) for r in ledger] == [
        (1, "message"),
        (1, "message"),
        (-1, "removed"),
        (-1, "removed"),
    ]

    # no longer introduced: the next real message within the window is the introduction
    later = c.post("g1", "cg", "大家好，我是做课程设计的，来这里学习 Python")
    assert _state(c, "g1", "cg") == (later.occurred_at, 1, 1)


def test_copies_in_one_batch_are_never_counted(community: Community) -> None:
    c = community
    for chat in CHATS:
        c.join(chat, "cg", "跨群哥")
    posted = [c.app.sandbox.post(chat, "cg", SPAM) for chat in CHATS]
    c.app.handle(posted)
    assert [d.rule for d in c.decisions()] == ["cross_group"]
    for chat in CHATS:
        assert _state(c, chat, "cg") == (None, 0, 0), chat
    with c.app.db.connect() as conn:
        assert conn.execute(select(points_ledger.c.id)).all() == []


def test_an_earlier_introduction_and_other_points_stay(community: Community) -> None:
    c = community
    for chat in CHATS:
        c.join(chat, "cg", "跨群哥")
    hello = c.post("g1", "cg", "大家好，我是做课程设计的，来这里学习 Python", gap=120)
    c.post("g1", "cg", SPAM)
    c.post("g2", "cg", SPAM)
    c.post("g3", "cg", SPAM)
    assert _state(c, "g1", "cg") == (hello.occurred_at, 1, 1)  # the spam's point only


def test_a_platforms_deletion_takes_nothing_back(community: Community) -> None:
    """A member deleting their own message (a Matrix redaction) is not moderation's removal."""
    c = community
    c.join("g1", "cg", "跨群哥")
    first = c.post("g1", "cg", "大家好，我是做课程设计的，来这里学习 Python")
    deleted = Event(
        "sandbox",
        "redaction-1",
        EventKind.MESSAGE_DELETED,
        first.occurred_at + timedelta(minutes=1),
        chat_id="g1",
        user_id="cg",
        message_id=first.message_id,
    )
    c.app.handle([deleted])
    assert _state(c, "g1", "cg") == (first.occurred_at, 1, 1)
