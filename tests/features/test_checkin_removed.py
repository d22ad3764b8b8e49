"""A check-in made with a message moderation removes later (a cross-group spam: "打卡 <the ad>"
posted in several groups is found out by its third copy) is taken back: its day, its points and
its gift, and the bot's reply that quoted the ad is deleted (or never sent)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from groupops.engine.app import App
from groupops.engine.withdraw import WITHDRAWN, WITHDRAWS
from groupops.features.checkin.days import member_checkins
from groupops.features.checkin.tables import checkin_days
from groupops.features.points import member_points
from groupops.features.points.tables import points_ledger
from groupops.storage.tables import outbox, workspaces
from tests.cli import cli_app, run
from tests.features.checkin_helpers import CHECKIN, POINTS
from tests.features.helpers import group_and_member
from tests.features.test_moderation import Community, new_community

AD = "打卡 特价课程限时五折快来抢购名额有限"
CHATS = ("g1", "g2", "g3")
#: one gift at two days in a row: 10 points and a make-up card
GIFTS = [{"streak": 2, "points": 10, "cards": 1}]


@pytest.fixture
def community(make_app: Callable[..., App]) -> Iterator[Community]:
    """Three groups of one workspace (Asia/Shanghai) with moderation, welcome, check-in and
    points; check-in's gift at 2 days; Ann (u1) and the spammer (cg) in every group."""
    c = new_community(make_app, (CHECKIN, POINTS), chats=CHATS)
    with c.app.db.begin() as conn:
        conn.execute(update(workspaces).values(settings={"checkin": {"gifts": GIFTS}}))
    c.app.engine.directory.invalidate()
    for chat in CHATS:
        c.join(chat, "u1", "Ann")
        c.join(chat, "cg", "Spammer")
    yield c


def _ids(c: Community, chat: str, user: str) -> tuple[int, int]:
    with c.app.db.connect() as conn:
        gid, mid = group_and_member(conn, chat, user)
    return gid, mid


def _checkins(c: Community, chat: str, user: str) -> dict[str, Any]:
    """The member's check-in summary in the group, their days (day: streak) and points."""
    gid, mid = _ids(c, chat, user)
    with c.app.db.connect() as conn:
        summary = member_checkins(conn, gid, mid) or {}
        days = conn.execute(
            select(checkin_days.c.day, checkin_days.c.streak)
            .where(checkin_days.c.group_id == gid, checkin_days.c.member_id == mid)
            .order_by(checkin_days.c.day)
        ).all()
        balance = member_points(conn, gid, mid)
    return {
        "total": summary.get("total", 0),
        "streak": summary.get("streak", 0),
        "best": summary.get("best_streak", 0),
        "cards": summary.get("cards", 0),
        "last": summary.get("last_day"),
        "days": {d.day.day: d.streak for d in days},
        "points": int(balance["points"]) if balance else 0,
    }


def _outbox(c: Community, chat: str) -> list[Any]:
    with c.app.db.connect() as conn:
        return list(
            conn.execute(
                select(
                    outbox.c.id, outbox.c.kind, outbox.c.status, outbox.c.payload, outbox.c.result
                )
                .where(outbox.c.chat_id == chat)
                .order_by(outbox.c.id)
            )
        )


def _bot_lines(c: Community, chat: str) -> list[tuple[str, bool]]:
    """The bot's messages in the sandbox group (text, deleted)."""
    return [
        (m.text, m.deleted)
        for m in c.app.sandbox.messages(chat)
        if m.user_id == "bot" and m.kind == "message"
    ]


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time of November 2026 given in Asia/Shanghai (UTC+8)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_a_spam_checkin_is_taken_back_and_its_reply_deleted(community: Community) -> None:
    c = community
    c.clock.set(_at(3, 9))
    c.post("g1", "cg", "打卡 读了20页")  # an honest day first: it stays
    c.post("g1", "u1", "打卡 读了20页")
    c.clock.set(_at(4, 9))
    c.post("g1", "u1", "打卡 读了30页")  # Ann's honest check-in: untouched
    c.post("g1", "cg", AD)  # day 2 in a row: the gift (10 points, a card)
    assert _checkins(c, "g1", "cg")["total"] == 2
    assert _checkins(c, "g1", "cg")["points"] == 5 + 5 + 10
    c.deliver()  # the reply quoting the ad is posted in g1
    assert any("特价课程" in text and not gone for text, gone in _bot_lines(c, "g1"))
    ann_before = _checkins(c, "g1", "u1")

    c.post("g2", "cg", AD)  # checked in there too; its reply not sent yet
    c.post("g3", "cg", AD)  # the third copy: cross-group spam, the earlier copies removed

    g1 = _checkins(c, "g1", "cg")
    assert g1 == {
        "total": 1,
        "streak": 1,
        "best": 1,
        "cards": 0,  # the gift's card went back
        "last": _at(3, 9).date(),
        "days": {3: 1},
        "points": 5,  # the ad's check-in (5) and gift (10) taken back
    }
    assert _checkins(c, "g2", "cg")["total"] == 0
    assert _checkins(c, "g2", "cg")["points"] == 0
    assert _checkins(c, "g1", "u1") == ann_before  # the honest one stays
    gid, mid = _ids(c, "g1", "cg")
    with c.app.db.connect() as conn:
        ledger = conn.execute(
            select(points_ledger.c.points, points_ledger.c.reason)
            .where(points_ledger.c.group_id == gid, points_ledger.c.member_id == mid)
            .order_by(points_ledger.c.id)
        ).all()
    assert [tuple(r) for r in ledger] == [
        (5, "checkin"),
        (5, "checkin"),
        (10, "gift"),
        (-15, "removed"),
    ]

    # g1: the delivered reply is deleted by its platform id; g2's waiting reply never goes
    g1_rows = _outbox(c, "g1")
    [reply] = [r for r in g1_rows if r.kind == "reply" and "特价课程" in r.payload["text"]]
    deletes = [r for r in g1_rows if r.kind == "delete" and r.status == "pending"]
    platform_id = reply.result["platform_message_id"]
    assert platform_id in [d.payload["message_id"] for d in deletes]
    g2_replies = [r for r in _outbox(c, "g2") if r.kind == "reply"]
    assert [r.status for r in g2_replies] == [WITHDRAWN]
    url = c.app.db.url.render_as_string(hide_password=False)
    listed = run(
        cli_app(), "outbox", "list", "--status", "withdrawn", "--json", "--database-url", url
    )
    assert [r["id"] for r in json.loads(listed.stdout)] == [g2_replies[0].id], listed.output
    assert not [
        r for r in _outbox(c, "g2") if r.kind == "delete" and WITHDRAWS in r.payload.get("data", {})
    ]

    c.deliver()
    lines = _bot_lines(c, "g1")
    assert [gone for text, gone in lines if "特价课程" in text] == [True]
    assert all(not gone for text, gone in lines if "特价课程" not in text)  # Ann's replies stay
    assert not [text for text, _ in _bot_lines(c, "g2") if "特价课程" in text]

    # the day is free again: an honest check-in that day counts (and pays) again
    c.post("g1", "cg", "打卡 读了20页")
    again = _checkins(c, "g1", "cg")
    assert (again["total"], again["streak"], again["days"]) == (2, 2, {3: 1, 4: 2})
    assert again["points"] == 5 + 5 + 10


def test_a_taken_back_day_splits_the_run(community: Community) -> None:
    """The ad checked in late on the 5th; an honest check-in after midnight made the 6th the
    third day in a row; the third copy takes the 5th out: the 6th counts again from 1."""
    c = community
    c.configure(cross_group_window_seconds=3600)
    c.clock.set(_at(4, 9))
    c.post("g1", "cg", "打卡 读了20页")
    c.clock.set(_at(5, 23, 40))
    c.post("g1", "cg", AD)
    c.post("g2", "cg", AD)
    c.clock.set(_at(6, 0, 10))
    c.post("g1", "cg", "打卡 读了10页")
    assert _checkins(c, "g1", "cg")["days"] == {4: 1, 5: 2, 6: 3}
    c.post("g3", "cg", AD)
    g1 = _checkins(c, "g1", "cg")
    assert (g1["days"], g1["total"], g1["streak"], g1["best"]) == ({4: 1, 6: 1}, 2, 1, 1)
    assert g1["last"] == _at(6, 9).date()
    assert g1["cards"] == 0
    assert g1["points"] == 10  # two honest check-ins; the ad's gift (10) taken back


def test_a_reply_being_sent_is_deleted_once_delivered(community: Community) -> None:
    """A reply a deliverer has claimed (sending) when its message is removed: the delete names
    the outbox row, and the deliverer deletes the message once it is delivered."""
    c = community
    c.clock.set(_at(4, 9))
    c.post("g1", "cg", AD)
    [reply] = [r for r in _outbox(c, "g1") if r.kind == "reply"]
    with c.app.db.begin() as conn:  # a deliverer claimed it, and has not finished yet
        claim = {"status": "sending", "claimed_until": c.clock.now() + timedelta(seconds=60)}
        conn.execute(update(outbox).where(outbox.c.id == reply.id).values(**claim))
    c.post("g2", "cg", AD)
    c.post("g3", "cg", AD)
    deletes = [r for r in _outbox(c, "g1") if r.kind == "delete"]
    # moderation's delete of the member's copy, and the withdrawal naming the reply's row
    assert sorted(str(d.payload.get("data")) for d in deletes) == sorted(
        ["{}", str({WITHDRAWS: reply.id})]
    )
    with c.app.db.begin() as conn:  # the claim ran out: the deliverer sends both
        conn.execute(
            update(outbox)
            .where(outbox.c.id == reply.id)
            .values(claimed_until=c.clock.now() - timedelta(seconds=1))
        )
    c.deliver()
    c.clock.advance(60)
    c.deliver()
    assert [gone for text, gone in _bot_lines(c, "g1") if "特价课程" in text] == [True]
