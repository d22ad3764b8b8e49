"""A level reached only through a message moderation removes afterwards (edited into an ad) is
not left announced: its "reached level" message is withdrawn (never sent, or deleted once
sent), the member's level is what the points left reach, and reaching it again is announced
again. A level the points left still reach stays, announced (docs/features/points.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, update

from groupops.engine.app import App
from groupops.engine.withdraw import WITHDRAWN
from groupops.features.points.boards import member_points
from groupops.features.points.ledger import LEVEL_UP_DATA
from groupops.storage.tables import groups, outbox
from tests.features.checkin_helpers import CHECKIN, POINTS
from tests.features.helpers import group_and_member
from tests.features.test_moderation import Community, new_community
from tests.features.test_moderation_edited import AD, CHECK_IN, INTRO, SPAM, _deletes_of, _edit

#: a check-in (5 points) reaches Regular; a message (1 point) does not
LEVELS = [{"name": "Newcomer", "points": 0}, {"name": "Regular", "points": 5}]


@pytest.fixture
def community(make_app: Callable[..., App]) -> Iterator[Community]:
    """Group g1 with moderation, welcome, check-in and points (``LEVELS``); Ann (u1)."""
    c = new_community(make_app, (CHECKIN, POINTS), language="zh_CN", chats=("g1",))
    c.join("g1", "u1", "Ann")
    _levels(c, LEVELS)
    yield c


def _levels(c: Community, levels: list[dict[str, Any]]) -> None:
    with c.app.db.begin() as conn:
        conn.execute(update(groups).values(settings={"points": {"levels": levels}}))
    c.app.engine.directory.invalidate()


def _level(c: Community) -> tuple[int, int]:
    """Ann's points and level (an index into LEVELS) in g1."""
    with c.app.db.connect() as conn:
        found = member_points(conn, *group_and_member(conn, "g1", "u1"))
    assert found is not None
    return int(found["points"]), int(found["level"])


def _announcements(c: Community, chat: str = "g1") -> list[Any]:
    """The level-up announcements in ``chat``'s outbox: (status, level reached, result) each."""
    with c.app.db.connect() as conn:
        rows = conn.execute(
            select(outbox.c.status, outbox.c.payload, outbox.c.result)
            .where(outbox.c.chat_id == chat, outbox.c.kind == "send")
            .order_by(outbox.c.id)
        ).all()
    return [
        (r.status, r.payload["data"][LEVEL_UP_DATA]["to"], r.result)
        for r in rows
        if LEVEL_UP_DATA in (r.payload.get("data") or {})
    ]


def test_a_level_not_sent_yet_is_withdrawn_and_announced_again_later(
    community: Community,
) -> None:
    c = community
    checkin = c.post("g1", "u1", CHECK_IN)
    assert _level(c) == (5, 1)
    assert [(s, to) for s, to, _ in _announcements(c)] == [("pending", 1)]

    c.app.handle([_edit(c, checkin, AD)])  # a later batch: the check-in is removed
    assert _level(c) == (0, 0)
    assert [(s, to) for s, to, _ in _announcements(c)] == [(WITHDRAWN, 1)]
    c.deliver()  # nothing of it is posted
    assert not [t for t in c.bot_texts("g1") if "Regular" in t]

    # the level was lost: an honest check-in that reaches it again is announced again
    c.clock.advance(60)
    c.post("g1", "u1", "打卡 今天读了25页")
    assert _level(c) == (5, 1)
    assert [(s, to) for s, to, _ in _announcements(c)] == [(WITHDRAWN, 1), ("pending", 1)]


def test_a_level_sent_already_is_deleted(community: Community) -> None:
    c = community
    _levels(c, [{"name": "Newcomer", "points": 0}, {"name": "Regular", "points": 1}])
    hello = c.post("g1", "u1", INTRO)  # a message's point reaches Regular
    c.deliver()
    [(status, to, result)] = _announcements(c)
    assert (status, to) == ("delivered", 1)
    platform_id = str(result["platform_message_id"])

    c.app.handle([_edit(c, hello, "想要资料的加我微信 abc123")])
    assert _level(c) == (0, 0)
    assert _deletes_of(c, platform_id) == 1
    c.deliver()
    [posted] = [m for m in c.app.sandbox.messages("g1") if str(m.id) == platform_id]
    assert posted.deleted


def test_a_level_still_reached_stays(community: Community) -> None:
    c = community
    checkin = c.post("g1", "u1", CHECK_IN, gap=61)  # Regular
    for n in range(5):
        c.post("g1", "u1", f"第{n}条认真的发言", gap=61)
    assert _level(c) == (10, 1)

    c.app.handle([_edit(c, checkin, AD)])  # 5 points stay: Regular is still reached
    assert _level(c) == (5, 1)
    assert [(s, to) for s, to, _ in _announcements(c)] == [("pending", 1)]


def test_only_the_level_the_removed_message_reached_is_lost(community: Community) -> None:
    """Ann's message reaches Regular, her check-in then Active: removing the check-in loses
    Active, and Regular, reached without it, stays announced."""
    c = community
    _levels(
        c,
        [
            {"name": "Newcomer", "points": 0},
            {"name": "Regular", "points": 1},
            {"name": "Active", "points": 6},
        ],
    )
    c.post("g1", "u1", INTRO, gap=61)
    checkin = c.post("g1", "u1", CHECK_IN)
    assert _level(c) == (6, 2)

    c.app.handle([_edit(c, checkin, AD)])
    assert _level(c) == (1, 1)
    assert [(s, to) for s, to, _ in _announcements(c)] == [("pending", 1), (WITHDRAWN, 2)]


def test_in_the_batch_of_its_message_the_level_is_never_reached(community: Community) -> None:
    c = community
    checkin = c.app.sandbox.post("g1", "u1", CHECK_IN)
    c.app.handle([checkin, _edit(c, checkin, AD)])
    assert _announcements(c) == []
    with c.app.db.connect() as conn:
        assert member_points(conn, *group_and_member(conn, "g1", "u1")) is None


def test_an_earlier_cross_group_copys_level_is_withdrawn(make_app: Callable[..., App]) -> None:
    """The first copies of a cross-group spam reached Regular in their groups; the third copy
    shows them to be spam: both announcements go (the third copy never counted)."""
    c = new_community(make_app, (CHECKIN, POINTS), language="zh_CN", chats=("g1", "g2", "g3"))
    for chat in ("g1", "g2", "g3"):
        c.join(chat, "u1", "Ann")
    _levels(c, [{"name": "Newcomer", "points": 0}, {"name": "Regular", "points": 1}])
    c.post("g1", "u1", SPAM)
    c.post("g2", "u1", SPAM)
    assert [(s, to) for s, to, _ in _announcements(c)] == [("pending", 1)]  # g1's
    c.post("g3", "u1", SPAM)
    assert [d.rule for d in c.decisions()] == ["cross_group"]
    for chat in ("g1", "g2"):
        assert [(s, to) for s, to, _ in _announcements(c, chat)] == [(WITHDRAWN, 1)], chat
    assert _announcements(c, "g3") == []
    assert _level(c) == (0, 0)
